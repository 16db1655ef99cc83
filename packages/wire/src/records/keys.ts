/**
 * The etcd key layout (layout 2), under a configurable prefix (default `/dvs/v1/`):
 *
 *   hosts/<host>                 agent, on its lease   HostRecord
 *   ports/<host>/<port>          agent, on its lease   PortRecord
 *   reports/<host>/<vni>/<mac>   agent, on its lease   ReportRecord
 *   status/<host>                agent, on its lease   TunnelStatusRecord
 *   digests/<host>               agent, on its lease   TableDigestRecord: what its data path holds, per VNI
 *   resync/<host>                controller            ResyncRequestRecord: VNIs the agent applies afresh
 *   networks/<vni>               controller (API)      NetworkRecord
 *   mirrors/<name>               controller (API)      MirrorRecord
 *   limits/<host>/<port>         controller (API)      PortQosRecord
 *   flow-export/sflow|ipfix      controller (API)      SflowRecord, IpfixRecord: the cluster's flow export
 *   fdb/<vni>/<mac>              controller            FdbEntryRecord
 *   flood/<vni>                  controller            FloodListRecord
 *   election/controller/…        controllers           etcd3 Election keys
 *   audit/<id>                   controller (API)      AuditRecord (JSON), capped history
 *   layout                       controller            KeyspaceLayoutRecord: which layout this is
 *
 * Everything a host writes starts with its own name after the section, so
 * etcd RBAC (which grants key prefixes) can confine each host to its own
 * keys: `hosts/<h>`, `ports/<h>/`, `reports/<h>/`, `status/<h>`,
 * `digests/<h>` (and read `resync/<h>`).
 * Layout 1 keyed reports `reports/<vni>/<mac>/<host>`; `parseLegacyReport`
 * recognises those keys, for the one-time conversion and to spot old agents.
 *
 * VNIs are decimal without leading zeros, MACs canonical lowercase text
 * (`02:00:00:00:00:01`). Builders throw RecordError on an invalid component
 * (a programming error: it would write a key no parser accepts); parsers
 * return null for any key that is not exactly one of ours.
 */
import { isHostId, isPortName } from './field-reader.js';
import { isCanonicalMac } from '../frames/mac.js';
import { RecordError } from './record-error.js';
import { MIRROR_NAME } from './mirror.js';
import { isRecordVni } from './vni-range.js';
import { FLOW_EXPORTERS, type FlowExporterName } from './flow-export.js';

export const DEFAULT_KEY_PREFIX = '/dvs/v1/';
/** The key layout this code reads and writes (recorded at `<prefix>layout`). */
export const KEY_LAYOUT_VERSION = 2;
/** Name passed to etcd3's `namespace(prefix).election(...)`; its keys live under `election/controller/`. */
export const CONTROLLER_ELECTION_NAME = 'controller';

export type ParsedKey =
  | { kind: 'host'; host: string }
  | { kind: 'port'; host: string; port: string }
  | { kind: 'report'; host: string; vni: number; mac: string }
  | { kind: 'network'; vni: number }
  | { kind: 'mirror'; name: string }
  | { kind: 'qos'; host: string; port: string }
  | { kind: 'flow-export'; exporter: FlowExporterName }
  | { kind: 'fdb'; vni: number; mac: string }
  | { kind: 'flood'; vni: number }
  | { kind: 'status'; host: string }
  | { kind: 'digest'; host: string }
  | { kind: 'resync'; host: string }
  | { kind: 'election'; name: string; rest: string };

export type KeyKind = ParsedKey['kind'];

const SECTION: Record<KeyKind, string> = {
  host: 'hosts/',
  port: 'ports/',
  report: 'reports/',
  network: 'networks/',
  mirror: 'mirrors/',
  qos: 'limits/',
  'flow-export': 'flow-export/',
  fdb: 'fdb/',
  flood: 'flood/',
  status: 'status/',
  digest: 'digests/',
  resync: 'resync/',
  election: 'election/',
};

function bad(what: string, value: unknown): never {
  throw new RecordError('DVS_RECORD_INVALID', 'key', what, `invalid ${what} ${JSON.stringify(value)}`);
}

function vniText(vni: number): string {
  return isRecordVni(vni) ? String(vni) : bad('vni', vni);
}
function macText(mac: string): string {
  return isCanonicalMac(mac) ? mac : bad('mac', mac);
}
function hostText(host: string): string {
  return isHostId(host) ? host : bad('host', host);
}
function portText(port: string): string {
  return isPortName(port) ? port : bad('port', port);
}

function parseVni(text: string): number | null {
  if (!/^[1-9]\d{0,7}$/.test(text)) return null;
  const vni = Number(text);
  return isRecordVni(vni) ? vni : null;
}

export class KeyLayout {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_KEY_PREFIX) {
    if (!prefix.endsWith('/')) bad('prefix', prefix);
    this.prefix = prefix;
  }

  /** Prefix of one section (`/dvs/v1/fdb/`), for range reads and watches. */
  section(kind: KeyKind): string {
    return this.prefix + SECTION[kind];
  }

  host(host: string): string {
    return `${this.section('host')}${hostText(host)}`;
  }
  port(host: string, port: string): string {
    return `${this.portsOf(host)}${portText(port)}`;
  }
  /** All port keys of one host. */
  portsOf(host: string): string {
    return `${this.section('port')}${hostText(host)}/`;
  }
  report(host: string, vni: number, mac: string): string {
    return `${this.reportsOf(host)}${vniText(vni)}/${macText(mac)}`;
  }
  /** All reports of one host (the prefix its etcd role may write). */
  reportsOf(host: string): string {
    return `${this.section('report')}${hostText(host)}/`;
  }
  network(vni: number): string {
    return `${this.section('network')}${vniText(vni)}`;
  }
  /** A port mirror (mirror.ts); inside the agents' read range `[fdb/, networks0)`. */
  mirror(name: string): string {
    return MIRROR_NAME.test(name) ? `${this.section('mirror')}${name}` : bad('mirror', name);
  }
  /** A port's QoS policers (port-qos.ts); inside the agents' read range `[fdb/, networks0)`. */
  portQos(host: string, port: string): string {
    return `${this.section('qos')}${hostText(host)}/${portText(port)}`;
  }
  /**
   * The cluster's sFlow or IPFIX settings (flow-export.ts). The section sorts
   * after `flood/` and before `hosts/`: inside the agents' read range
   * `[fdb/, networks0)`, where the agent's base follower starts.
   */
  flowExport(exporter: FlowExporterName): string {
    return FLOW_EXPORTERS.includes(exporter)
      ? `${this.section('flow-export')}${exporter}`
      : bad('flow exporter', exporter);
  }
  fdb(vni: number, mac: string): string {
    return `${this.fdbOf(vni)}${macText(mac)}`;
  }
  /** All FDB entries of one VNI. */
  fdbOf(vni: number): string {
    return `${this.section('fdb')}${vniText(vni)}/`;
  }
  flood(vni: number): string {
    return `${this.section('flood')}${vniText(vni)}`;
  }
  status(host: string): string {
    return `${this.section('status')}${hostText(host)}`;
  }
  digest(host: string): string {
    return `${this.section('digest')}${hostText(host)}`;
  }
  resync(host: string): string {
    return `${this.section('resync')}${hostText(host)}`;
  }
  /** Prefix of the controller election's keys. */
  election(name: string = CONTROLLER_ELECTION_NAME): string {
    return `${this.section('election')}${name}/`;
  }

  /** The key recording which layout the keyspace has; not a table, so parse() leaves it out. */
  get layout(): string {
    return `${this.prefix}layout`;
  }

  /** Prefix of the API audit history; not a table, so parse() leaves it out. */
  get auditPrefix(): string {
    return `${this.prefix}audit/`;
  }
  audit(id: string): string {
    return /^[0-9A-Za-z._-]{1,128}$/.test(id) ? `${this.auditPrefix}${id}` : bad('audit id', id);
  }

  /** Parses any key of the layout; null for foreign or malformed keys. */
  parse(key: string): ParsedKey | null {
    if (!key.startsWith(this.prefix)) return null;
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) return null;
    const section = rest.slice(0, slash + 1);
    const parts = rest.slice(slash + 1).split('/');
    switch (section) {
      case 'hosts/':
        return parts.length === 1 && isHostId(parts[0]) ? { kind: 'host', host: parts[0] } : null;
      case 'ports/':
        return parts.length === 2 && isHostId(parts[0]) && isPortName(parts[1])
          ? { kind: 'port', host: parts[0], port: parts[1] }
          : null;
      case 'reports/': {
        if (parts.length !== 3) return null;
        const vni = parseVni(parts[1]!);
        return vni !== null && isHostId(parts[0]) && isCanonicalMac(parts[2])
          ? { kind: 'report', host: parts[0], vni, mac: parts[2] }
          : null;
      }
      case 'networks/': {
        const vni = parts.length === 1 ? parseVni(parts[0]!) : null;
        return vni === null ? null : { kind: 'network', vni };
      }
      case 'limits/':
        return parts.length === 2 && isHostId(parts[0]) && isPortName(parts[1])
          ? { kind: 'qos', host: parts[0], port: parts[1] }
          : null;
      case 'mirrors/':
        return parts.length === 1 && MIRROR_NAME.test(parts[0]!) ? { kind: 'mirror', name: parts[0]! } : null;
      case 'flow-export/':
        return parts.length === 1 && (FLOW_EXPORTERS as readonly string[]).includes(parts[0]!)
          ? { kind: 'flow-export', exporter: parts[0] as FlowExporterName }
          : null;
      case 'fdb/': {
        const vni = parts.length === 2 ? parseVni(parts[0]!) : null;
        return vni !== null && isCanonicalMac(parts[1]) ? { kind: 'fdb', vni, mac: parts[1] } : null;
      }
      case 'flood/': {
        const vni = parts.length === 1 ? parseVni(parts[0]!) : null;
        return vni === null ? null : { kind: 'flood', vni };
      }
      case 'status/':
        return parts.length === 1 && isHostId(parts[0]) ? { kind: 'status', host: parts[0] } : null;
      case 'digests/':
        return parts.length === 1 && isHostId(parts[0]) ? { kind: 'digest', host: parts[0] } : null;
      case 'resync/':
        return parts.length === 1 && isHostId(parts[0]) ? { kind: 'resync', host: parts[0] } : null;
      case 'election/':
        return parts.length >= 2 && parts[0] !== ''
          ? { kind: 'election', name: parts[0]!, rest: parts.slice(1).join('/') }
          : null;
      default:
        return null;
    }
  }

  parseHost(key: string): { host: string } | null {
    const p = this.parse(key);
    return p?.kind === 'host' ? { host: p.host } : null;
  }
  parsePort(key: string): { host: string; port: string } | null {
    const p = this.parse(key);
    return p?.kind === 'port' ? { host: p.host, port: p.port } : null;
  }
  parseReport(key: string): { host: string; vni: number; mac: string } | null {
    const p = this.parse(key);
    return p?.kind === 'report' ? { host: p.host, vni: p.vni, mac: p.mac } : null;
  }
  /**
   * A layout-1 report key, `reports/<vni>/<mac>/<host>`; null for anything
   * else. Never the same key as a layout-2 one: there the MAC (with its
   * colons, which no host id has) comes last, here the host does.
   */
  parseLegacyReport(key: string): { host: string; vni: number; mac: string } | null {
    if (!key.startsWith(this.section('report'))) return null;
    const parts = key.slice(this.section('report').length).split('/');
    if (parts.length !== 3) return null;
    const vni = parseVni(parts[0]!);
    return vni !== null && isCanonicalMac(parts[1]) && isHostId(parts[2])
      ? { host: parts[2], vni, mac: parts[1] }
      : null;
  }
  parseNetwork(key: string): { vni: number } | null {
    const p = this.parse(key);
    return p?.kind === 'network' ? { vni: p.vni } : null;
  }
  parseFdb(key: string): { vni: number; mac: string } | null {
    const p = this.parse(key);
    return p?.kind === 'fdb' ? { vni: p.vni, mac: p.mac } : null;
  }
  parseFlood(key: string): { vni: number } | null {
    const p = this.parse(key);
    return p?.kind === 'flood' ? { vni: p.vni } : null;
  }
  parseStatus(key: string): { host: string } | null {
    const p = this.parse(key);
    return p?.kind === 'status' ? { host: p.host } : null;
  }
}
