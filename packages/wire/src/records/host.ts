/**
 * `hosts/<host>` — written by the agent on its lease: where its VTEP is and
 * what it can do. Its disappearance (lease expiry) removes the host from every
 * table.
 */
import { encodeRecord, decodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, oneOfAt, type FieldReader } from './field-reader.js';
import { isLabelKey, isLabelValue, LABEL_SYNTAX, MAX_HOST_LABELS } from './host-labels.js';
import type { RecordError } from './record-error.js';
import { DEFAULT_ENCAP_PORTS, ENCAPS, type Encap } from '../frames/encap.js';
import { readVtep, type VtepRecord } from './vtep.js';
import { DATAPATH_KINDS, type VxlanOwner } from '../datapath/datapath-choice.js';

/**
 * 1.1 added `encapPorts`, 1.2 `labels`, 1.3 `datapath` and `probePort` (all optional: older
 * readers ignore them, older records lack them).
 */
export const HOST_RECORD_VERSION: SchemaVersion = { major: 1, minor: 3 };

export interface HostRecord {
  host: string;
  /** Underlay address and the VXLAN port. */
  vtep: VtepRecord;
  /** UDP port per encapsulation when not the default (`gre-udp` defaults to 4754, `vxlan` to vtep.port). */
  encapPorts?: Partial<Record<Encap, number>>;
  encaps: Encap[];
  /** What the host says about itself (`rack: r1`), from the agent's config; see host-labels.ts. */
  labels?: Record<string, string>;
  /**
   * The provider that owns the host's VXLAN port, and why (absent: an agent
   * from before 1.3, userspace). With a network's encap and datapath it says
   * where the network is served on this host (datapath-choice.ts servedBy).
   */
  datapath?: VxlanOwner;
  agentVersion: string;
  /**
   * The UDP port on which the host sends and answers tunnel probes of its
   * VXLAN networks, when not its VXLAN port: a host whose VXLAN networks the
   * kernel datapath serves (its vxlan devices own the VXLAN port). Peers send
   * their VXLAN probes there; GRE-in-UDP probes keep the GRE port.
   */
  probePort?: number;
  /** Agent process start, ms since the epoch: a change means the agent restarted. */
  startedAt: number;
}

export function encodeHost(record: HostRecord): Buffer {
  return encodeRecord(HOST_RECORD_VERSION, record);
}

export function decodeHost(buf: Uint8Array): HostRecord | RecordError {
  return decodeRecord('host', HOST_RECORD_VERSION, buf, (r) => ({
    host: r.hostId('host'),
    vtep: readVtep(r.map_('vtep')),
    ...(r.has('encapPorts') ? { encapPorts: readEncapPorts(r.map_('encapPorts')) } : {}),
    encaps: r.array('encaps', ENCAPS.length, (v, path) => oneOfAt(v, path, ENCAPS)),
    ...(r.has('labels') ? { labels: readLabels(r.map_('labels')) } : {}),
    ...(r.has('datapath') ? { datapath: readOwner(r.map_('datapath')) } : {}),
    agentVersion: r.string('agentVersion', 64),
    ...(r.has('probePort') ? { probePort: r.int('probePort', 1, 65535) } : {}),
    startedAt: r.time('startedAt'),
  }));
}

function readOwner(r: FieldReader): VxlanOwner {
  return { provider: r.oneOf('provider', DATAPATH_KINDS), reason: r.string('reason', 512) };
}

function readLabels(r: FieldReader): Record<string, string> {
  const out: Record<string, string> = {};
  const keys = r.keys();
  if (keys.length > MAX_HOST_LABELS) throw new FieldInvalid(r.pathOf(''), `more than ${MAX_HOST_LABELS} labels`);
  for (const key of keys) {
    const value = r.string(key, 63);
    if (!isLabelKey(key) || !isLabelValue(value)) throw new FieldInvalid(r.pathOf(key), `expected ${LABEL_SYNTAX}`);
    out[key] = value;
  }
  return out;
}

function readEncapPorts(r: FieldReader): Partial<Record<Encap, number>> {
  const out: Partial<Record<Encap, number>> = {};
  for (const encap of ENCAPS) if (r.has(encap)) out[encap] = r.int(encap, 1, 65535);
  return out;
}

/** Where a host receives frames of `encap`: its address and that encapsulation's UDP port. */
export function hostVtepFor(host: HostRecord, encap: Encap): VtepRecord {
  const port = host.encapPorts?.[encap] ?? (encap === 'vxlan' ? host.vtep.port : DEFAULT_ENCAP_PORTS[encap]);
  return { address: host.vtep.address, port };
}
