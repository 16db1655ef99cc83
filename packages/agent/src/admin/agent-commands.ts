import { formatPortSecurity, isPortSecurityWord, parsePortSecurityWords } from '../config/port-security-config.js';
import { MAX_ALLOWED_PAIRS } from '../datapath/port-security.js';
import {
  DEFAULT_PORT_PLUG,
  PORT_PLUGS,
  buildRarpAnnounce,
  isMulticastMac,
  isPortPlug,
  isValidVni,
  parseMac,
} from '@dvs/wire';
import { formatPortMapping, parsePortMapping } from '../config/port-mapping-text.js';
import type { CountersSnapshot } from '../datapath/counters.js';
import type { Datapaths } from '../dpif/datapaths.js';
import { defaultBurstKb, type PolicerSpec } from '../datapath/token-bucket.js';
import type { AgentPortView, PortRequest } from '../ports/managed-port.js';
import { AdminCommandError, type CommandRegistry } from './command-registry.js';
import { renderTraceReport } from './render-trace.js';
import { renderCounters, renderFdb, renderNetworks, renderPeers, renderPorts } from './render-text.js';

/** What the admin commands need from the agent (the Agent class implements it; tests may fake it). */
export interface AgentControl {
  readonly host: string;
  readonly version: string;
  /** Both datapath providers, routed by VNI. */
  readonly dataPath: Datapaths;
  /** Opens the device by its plug (create, adopt, attach) and adds the port; rejects with a coded error, changing nothing. */
  addPort(request: PortRequest): Promise<AgentPortView>;
  /** Removes the port, closes its device (a created TAP disappears, an adopted or attached device stays). */
  removePort(name: string): Promise<void>;
  /** Whether a port of that name is configured (its device there or gone). */
  hasPort(name: string): boolean;
  portViews(): AgentPortView[];
  /** A port's policer for one direction (null: none), kept for later attaches; throws a coded error, changing nothing. */
  setPortQos(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void;
  /** The data path's counters with those of ports whose device is gone. */
  counters(): CountersSnapshot;
}

/** Registers the agent's commands: ports/*, fdb/*, peers/show, networks/show, counters/show, trace, version. */
export function registerAgentCommands(registry: CommandRegistry, agent: AgentControl): void {
  const dp = agent.dataPath;
  const vniArg = (text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const vni = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!isValidVni(vni)) throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${text}" is not a VNI (1..16777215)`);
    if (!dp.hasNetwork(vni)) throw new AdminCommandError('DVS_NOT_FOUND', `no network with VNI ${vni}`);
    return vni;
  };
  const portArg = (name: string): string => {
    if (!agent.hasPort(name)) throw new AdminCommandError('DVS_NOT_FOUND', `no port ${name}; ports/show lists them`);
    return name;
  };
  /** A port whose device is in the data path now (not gone). */
  const livePortArg = (name: string): string => {
    portArg(name);
    if (!dp.hasPort(name))
      throw new AdminCommandError('DVS_PORT_GONE', `port ${name} has no device now (gone); ports/show says since when`);
    return name;
  };

  registry.register({
    name: 'version',
    usage: 'version',
    summary: 'agent version and host id',
    minArgs: 0,
    maxArgs: 0,
    run: () => ({
      text: `dvs-agent ${agent.version} (host ${agent.host}, node ${process.version})\n`,
      data: { version: agent.version, host: agent.host, node: process.version },
    }),
  });

  registry.register({
    name: 'ports/show',
    usage: 'ports/show',
    summary: 'ports: kind, device kind, state (up/down/gone) and since when, VNI mapping, MTU, counters',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const ports = agent.portViews();
      return { text: renderPorts(ports, Date.now()), data: ports };
    },
  });

  registry.register({
    name: 'ports/add',
    usage: `ports/add <name> <vni|trunk:vlan=vni,…> [${PORT_PLUGS.join('|')}] [persistent] [allow=MAC[,IP…]]… [lock-mac] [max-macs=N] [storm-broadcast|storm-multicast|storm-unknown-unicast=PPS]`,
    summary:
      'plug a device in: create a TAP (default), adopt a TAP nobody holds, or attach an existing device (a TAP QEMU holds, a veth, a macvlan, a NIC), with optional port security; the same port again changes nothing',
    minArgs: 2,
    maxArgs: 4 + MAX_ALLOWED_PAIRS + 5,
    run: async ([name, mappingText, ...rest]) => {
      if (Buffer.byteLength(name) > 15 || !/^[A-Za-z0-9._-]+$/.test(name)) {
        throw new AdminCommandError(
          'DVS_BAD_ARGUMENT',
          `"${name}" is not an interface name (at most 15 of A-Z a-z 0-9 . _ -)`,
        );
      }
      const mapping = parsePortMapping(mappingText);
      if (typeof mapping === 'string') throw new AdminCommandError('DVS_BAD_ARGUMENT', mapping);
      const securityWords = rest.filter(isPortSecurityWord);
      const [plugText, persistentText, extra] = rest.filter((w) => !isPortSecurityWord(w));
      if (extra !== undefined)
        throw new AdminCommandError(
          'DVS_BAD_ARGUMENT',
          `"${extra}" is not a plug, "persistent" or a port security word`,
        );
      const plug = plugText ?? DEFAULT_PORT_PLUG;
      if (!isPortPlug(plug))
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${plug}" is not one of ${PORT_PLUGS.join(', ')}`);
      if (persistentText !== undefined && persistentText !== 'persistent')
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${persistentText}" is not "persistent"`);
      const persistent = persistentText === 'persistent';
      if (persistent && plug !== 'create')
        throw new AdminCommandError(
          'DVS_BAD_ARGUMENT',
          `persistent applies to TAPs the agent creates, not to ${plug}: leave it out`,
        );
      const security = securityWords.length === 0 ? undefined : parsePortSecurityWords(securityWords, name);
      if (typeof security === 'string') throw new AdminCommandError('DVS_BAD_ARGUMENT', security);
      const again = agent.hasPort(name);
      const view = await agent.addPort({
        name,
        mapping,
        plug,
        persistent,
        ...(security !== undefined ? { security } : {}),
      });
      const secured = security === undefined ? '' : `, security: ${formatPortSecurity(security)}`;
      return {
        text: `${again ? 'port exists already, unchanged:' : 'added port'} ${name} (${formatPortMapping(mapping)}, ${view.kind}${persistent ? ', persistent' : ''}, device ${view.deviceKind}, ${view.state}, mtu ${view.mtu}${secured})\n${view.mtuWarning === null ? '' : `warning: ${view.mtuWarning}\n`}`,
        data: view,
      };
    },
  });

  registry.register({
    name: 'ports/del',
    usage: 'ports/del <name>',
    summary: 'unplug a port (a created TAP is deleted; an adopted TAP or attached device is left)',
    minArgs: 1,
    maxArgs: 1,
    run: async ([name]) => {
      await agent.removePort(portArg(name));
      return { text: `removed port ${name}\n`, data: { name } };
    },
  });

  registry.register({
    name: 'ports/announce',
    usage: 'ports/announce <name> <mac> [count]',
    summary: 'switch QEMU-style RARP self-announcements of <mac> as if received on <name>',
    minArgs: 2,
    maxArgs: 3,
    run: ([name, macText, countText]) => {
      livePortArg(name);
      const mac = parseMac(macText);
      if (mac === null || isMulticastMac(mac))
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${macText}" is not a unicast MAC`);
      const count = countText === undefined ? 1 : /^\d+$/.test(countText) ? Number(countText) : NaN;
      if (!(count >= 1 && count <= 10))
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `count must be 1..10, got "${countText}"`);
      const frame = buildRarpAnnounce(mac);
      for (let i = 0; i < count; i++) dp.injectFrame(name, frame);
      return { text: `announced ${macText} on ${name} (${count} RARP)\n`, data: { port: name, mac: macText, count } };
    },
  });

  registry.register({
    name: 'ports/qos',
    usage: 'ports/qos <name> <ingress|egress> <rate-kbps|off> [burst-kb]',
    summary:
      "police a port's frames with a token bucket (OVS's ingress_policing_rate/burst): beyond the rate they are dropped as policed; burst defaults to a tenth of the rate",
    minArgs: 3,
    maxArgs: 4,
    run: ([name, direction, rateText, burstText]) => {
      portArg(name);
      if (direction !== 'ingress' && direction !== 'egress')
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `direction must be ingress or egress, got "${direction}"`);
      if (rateText === 'off') {
        if (burstText !== undefined)
          throw new AdminCommandError('DVS_BAD_ARGUMENT', 'burst: not with off (off removes the policer)');
        agent.setPortQos(name, direction, null);
        return { text: `${name}: ${direction} policing off\n`, data: { port: name, direction, policer: null } };
      }
      const rateKbps = /^\d+$/.test(rateText) ? Number(rateText) : NaN;
      if (Number.isNaN(rateKbps))
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `rate: "${rateText}" is not a rate in kbit/s (or off)`);
      const burstKb =
        burstText === undefined ? defaultBurstKb(rateKbps) : /^\d+$/.test(burstText) ? Number(burstText) : NaN;
      if (Number.isNaN(burstKb))
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `burst: "${burstText}" is not a burst in kbit`);
      agent.setPortQos(name, direction, { rateKbps, burstKb });
      return {
        text: `${name}: ${direction} policed at ${rateKbps} kbit/s, burst ${burstKb} kbit\n`,
        data: { port: name, direction, policer: { rateKbps, burstKb } },
      };
    },
  });

  registry.register({
    name: 'fdb/show',
    usage: 'fdb/show [vni]',
    summary: 'FDB entries (all VNIs or one)',
    minArgs: 0,
    maxArgs: 1,
    run: ([vniText]) => {
      const entries = dp.fdbEntries(vniArg(vniText));
      return { text: renderFdb(entries), data: entries };
    },
  });

  registry.register({
    name: 'fdb/set',
    usage: 'fdb/set <vni> <mac> <address>[:port]',
    summary:
      'point a MAC at a VTEP as a controller entry would (to test `dvs audit`; the next change or resync of the MAC overrides it)',
    minArgs: 3,
    maxArgs: 3,
    run: ([vniText, macText, vtepText]) => {
      const vni = vniArg(vniText)!;
      const mac = parseMac(macText!);
      if (mac === null) throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${macText}" is not a MAC`);
      const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::(\d{1,5}))?$/.exec(vtepText!);
      const address = v4 !== null ? v4[1]! : vtepText!;
      const port = v4?.[2] !== undefined ? Number(v4[2]) : 4789;
      const result = dp.apply([{ kind: 'fdb:set', vni, mac, vtep: { address, port }, seq: 0 }]);
      if (result.rejected.length > 0)
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `refused: ${result.rejected[0]!.reason}`);
      return {
        text: `VNI ${vni} ${macText} → ${address}:${port}\n`,
        data: { vni, mac: macText, vtep: { address, port } },
      };
    },
  });

  registry.register({
    name: 'fdb/flush',
    usage: 'fdb/flush [vni]',
    summary: 'forget learned entries (static and controller entries stay)',
    minArgs: 0,
    maxArgs: 1,
    run: ([vniText]) => {
      const vni = vniArg(vniText);
      const flushed = dp.flushFdb(vni);
      return {
        text: `flushed ${flushed} entr${flushed === 1 ? 'y' : 'ies'}${vni === undefined ? '' : ` of VNI ${vni}`}\n`,
        data: { vni: vni ?? null, flushed },
      };
    },
  });

  registry.register({
    name: 'peers/show',
    usage: 'peers/show',
    summary: 'peer VTEPs with their VNIs and counters',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const peers = dp.peerViews();
      return { text: renderPeers(peers), data: peers };
    },
  });

  registry.register({
    name: 'networks/show',
    usage: 'networks/show',
    summary: 'networks (VNIs): the datapath provider that serves each and why, encap, MTU, ports, flood list',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const networks = dp.networkViews();
      return { text: renderNetworks(networks), data: networks };
    },
  });

  registry.register({
    name: 'trace',
    usage: 'trace <vni> <src-mac> <dst-mac> [port|-] [length]',
    summary:
      'run such a frame through the data path in a dry run (nothing learned, counted or sent) and say what it did',
    minArgs: 3,
    maxArgs: 5,
    run: ([vniText, srcText, dstText, portName, lengthText]) => {
      // An unknown VNI is not an error here: the trace shows the drop.
      const vni = /^\d+$/.test(vniText) ? Number(vniText) : NaN;
      if (!isValidVni(vni)) throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${vniText}" is not a VNI (1..16777215)`);
      const src = parseMac(srcText);
      if (src === null) throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${srcText}" is not a MAC`);
      const dst = parseMac(dstText);
      if (dst === null) throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${dstText}" is not a MAC`);
      const length = lengthText === undefined ? undefined : /^\d+$/.test(lengthText) ? Number(lengthText) : NaN;
      if (length !== undefined && Number.isNaN(length))
        throw new AdminCommandError('DVS_BAD_ARGUMENT', `"${lengthText}" is not a frame length in bytes`);
      const port = portName === undefined || portName === '-' ? undefined : livePortArg(portName);
      const report = dp.trace({
        vni,
        src,
        dst,
        ...(port === undefined ? {} : { port }),
        ...(length === undefined ? {} : { length }),
      });
      return { text: renderTraceReport(report), data: report };
    },
  });

  registry.register({
    name: 'counters/show',
    usage: 'counters/show',
    summary: 'drops by reason, FDB activity, per port and per peer traffic',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const counters = agent.counters();
      return { text: renderCounters(counters), data: counters };
    },
  });
}
