/**
 * Admin commands of flow export: sflow/show, sflow/set, sflow/clear,
 * ipfix/show, ipfix/set, ipfix/clear, flows/show. `set` gives this host its
 * own setting, which overrides the cluster's; `clear` drops it, and the
 * cluster's applies again (flow-export-sources.ts). Each validates
 * everything (and resolves the collectors) before it changes anything.
 */
import { isValidVni } from '@dvs/wire';
import { AdminCommandError, type CommandRegistry } from '../admin/command-registry.js';
import {
  FlowExportError,
  IPFIX_DEFAULTS,
  IPFIX_PORT,
  SFLOW_DEFAULTS,
  SFLOW_PORT,
  applyWords,
  parseCollector,
  type Collector,
  type IpfixSettings,
  type SflowSettings,
} from './flow-export-config.js';
import type { FlowView } from './flow-export.js';
import type { FlowExportSources, SourcedIpfixView, SourcedSflowView } from './flow-export-sources.js';

const SFLOW_KEYS = { sampling: 'sampling', polling: 'pollingS', header: 'headerBytes' } as const;
const IPFIX_KEYS = {
  active: 'activeTimeoutS',
  idle: 'idleTimeoutS',
  template: 'templateRefreshS',
  cache: 'cacheSize',
  domain: 'observationDomain',
} as const;

/** Runs `fn`, turning a FlowExportError into the admin error with the same code. */
async function coded<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FlowExportError) throw new AdminCommandError(err.code, err.message);
    throw err;
  }
}

function collectorsArg(text: string, defaultPort: number, field: string): Collector[] {
  return text.split(',').map((c) => parseCollector(c, defaultPort, field));
}

export function registerFlowCommands(registry: CommandRegistry, sources: FlowExportSources): void {
  const flows = sources.flows;
  registry.register({
    name: 'sflow/show',
    usage: 'sflow/show',
    summary:
      "sFlow: where the settings in force come from (this host's or the cluster's), collectors, sampling rate, polling interval, datagrams and samples sent, send errors",
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const v = sources.sflowView();
      return { text: renderSflow(v), data: v };
    },
  });
  registry.register({
    name: 'sflow/set',
    usage: 'sflow/set <host[:port][,…]|off> [sampling=N] [polling=S] [header=BYTES]',
    summary: `this host's own sFlow v5 setting, over the cluster's: collectors (port ${SFLOW_PORT} by default), 1-in-N sampling per port (default ${SFLOW_DEFAULTS.sampling}), counters every S s (default ${SFLOW_DEFAULTS.pollingS}); off: none here`,
    minArgs: 1,
    maxArgs: 4,
    run: ([target, ...words]) =>
      coded(async () => {
        if (target === 'off') {
          if (words.length > 0) throw new FlowExportError('DVS_BAD_ARGUMENT', 'sflow/set off takes no settings');
          return rendered(renderSflow, await sources.setHostSflow('off'));
        }
        const base: SflowSettings = {
          ...SFLOW_DEFAULTS,
          collectors: collectorsArg(target!, SFLOW_PORT, 'sflow.collectors'),
        };
        return rendered(renderSflow, await sources.setHostSflow(applyWords(base, words, SFLOW_KEYS, 'sflow')));
      }),
  });
  registry.register({
    name: 'sflow/clear',
    usage: 'sflow/clear',
    summary: "drops this host's own sFlow setting: the cluster's applies (or none)",
    minArgs: 0,
    maxArgs: 0,
    run: () => coded(async () => rendered(renderSflow, await sources.setHostSflow(null))),
  });
  registry.register({
    name: 'ipfix/show',
    usage: 'ipfix/show',
    summary:
      'IPFIX: collectors, timeouts, flows in the cache, records and messages sent, cache-full drops, send errors',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const v = sources.ipfixView();
      return { text: renderIpfix(v), data: v };
    },
  });
  registry.register({
    name: 'ipfix/set',
    usage: 'ipfix/set <host[:port][,…]|cache-only|off> [active=S] [idle=S] [template=S] [cache=FLOWS] [domain=N]',
    summary: `this host's own IPFIX setting, over the cluster's: flow records to collectors (port ${IPFIX_PORT} by default); cache-only keeps the flow cache for flows/show without exporting; off: none here`,
    minArgs: 1,
    maxArgs: 6,
    run: ([target, ...words]) =>
      coded(async () => {
        if (target === 'off') {
          if (words.length > 0) throw new FlowExportError('DVS_BAD_ARGUMENT', 'ipfix/set off takes no settings');
          return rendered(renderIpfix, await sources.setHostIpfix('off'));
        }
        const collectors = target === 'cache-only' ? [] : collectorsArg(target!, IPFIX_PORT, 'ipfix.collectors');
        const base: IpfixSettings = { ...IPFIX_DEFAULTS, collectors };
        return rendered(renderIpfix, await sources.setHostIpfix(applyWords(base, words, IPFIX_KEYS, 'ipfix')));
      }),
  });
  registry.register({
    name: 'ipfix/clear',
    usage: 'ipfix/clear',
    summary: "drops this host's own IPFIX setting: the cluster's applies (or none)",
    minArgs: 0,
    maxArgs: 0,
    run: () => coded(async () => rendered(renderIpfix, await sources.setHostIpfix(null))),
  });
  registry.register({
    name: 'flows/show',
    usage: 'flows/show [vni] [top=N]',
    summary: 'top talkers: the flows in the flow cache by bytes (needs ipfix/set, cache-only will do)',
    minArgs: 0,
    maxArgs: 2,
    run: (args) => {
      let vni: number | undefined;
      let top = 10;
      for (const a of args) {
        const m = /^top=(\d+)$/.exec(a);
        if (m) top = Number(m[1]);
        else if (/^\d+$/.test(a) && isValidVni(Number(a))) vni = Number(a);
        else throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${a}" is neither a VNI (1..16777215) nor top=N`);
      }
      if (!flows.caching)
        throw new AdminCommandError(
          'DVS_NOT_FOUND',
          'no flow cache: turn it on with ipfix/set cache-only (or with a collector)',
        );
      const list = flows.topTalkers(vni, top);
      return { text: renderFlows(list), data: list };
    },
  });
}

function rendered<V>(render: (v: V) => string, v: V): { text: string; data: V } {
  return { text: render(v), data: v };
}

function collectorsText(v: SourcedSflowView | SourcedIpfixView): string {
  return v.collectors.map((c) => `${c.host}:${c.port}${c.host === c.address ? '' : ` (${c.address})`}`).join(', ');
}

/** The line that says where the settings in force come from. */
function sourceText(name: string, v: SourcedSflowView | SourcedIpfixView): string {
  const over = `overrides the cluster's${v.cluster === null ? ', which has none' : ''}`;
  if (v.source === 'host') return `  source: this host (${over})\n`;
  if (v.source === 'cluster') return `  source: the cluster (dvs ${name} set; this host has no setting of its own)\n`;
  if (v.host === 'off') return `  source: this host, off here (${over})\n`;
  if (v.clusterProblem !== null) return `  source: the cluster's, refused on this host: ${v.clusterProblem}\n`;
  return '  source: none (neither this host nor the cluster has a setting)\n';
}

function renderSflow(v: SourcedSflowView): string {
  if (v.settings === null || v.counters === null) return `sFlow off\n${sourceText('sflow', v)}`;
  const s = v.settings;
  const c = v.counters;
  return (
    `sFlow to ${collectorsText(v)}: sampling 1-in-${s.sampling}, counters every ${s.pollingS} s, header ${s.headerBytes} bytes\n` +
    `  sent ${c.datagrams} datagrams (${c.flowSamples} flow samples, ${c.counterSamples} counter samples), ` +
    `samples dropped ${c.sampleDrops}, send errors ${c.sendErrors}${c.lastError ? ` (last: ${c.lastError})` : ''}\n` +
    sourceText('sflow', v)
  );
}

function renderIpfix(v: SourcedIpfixView): string {
  if (v.settings === null || v.counters === null) return `IPFIX off\n${sourceText('ipfix', v)}`;
  const s = v.settings;
  const c = v.counters;
  const to = v.collectors.length === 0 ? 'no collector (cache only)' : collectorsText(v);
  return (
    `IPFIX to ${to}: active ${s.activeTimeoutS} s, idle ${s.idleTimeoutS} s, templates every ${s.templateRefreshS} s, cache ${s.cacheSize} flows, domain ${s.observationDomain}\n` +
    `  ${c.flows} flows cached; sent ${c.records} records in ${c.messages} messages, ${c.templates} template sets; ` +
    `cache full: ${c.cacheFull} flows (${c.cacheFullPackets} packets) not recorded; send errors ${c.sendErrors}${c.lastError ? ` (last: ${c.lastError})` : ''}\n` +
    sourceText('ipfix', v)
  );
}

const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

function endpointText(e: FlowView['ingress']): string {
  return e.kind === 'port' ? e.port : e.kind === 'vtep' ? `vtep ${e.vtep}` : 'flood';
}

function renderFlows(list: FlowView[]): string {
  if (list.length === 0) return 'no flows in the cache\n';
  const rows = list.map((f) => [
    String(f.vni),
    PROTOCOLS[f.protocol] ?? String(f.protocol),
    `${f.src}${f.srcPort ? `:${f.srcPort}` : ''}`,
    `${f.dst}${f.dstPort ? `:${f.dstPort}` : ''}`,
    String(f.packets),
    String(f.octets),
    endpointText(f.ingress),
    endpointText(f.egress),
  ]);
  const head = ['VNI', 'PROTO', 'SOURCE', 'DESTINATION', 'PACKETS', 'BYTES', 'IN', 'OUT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return (
    [head, ...rows]
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
