/**
 * `networks/<vni>` — written by the controller (HTTP API): a virtual L2
 * network. External VTEPs are VTEPs that are not dvs agents (a kernel vxlan
 * device, a hardware switch); they are always in the VNI's flood list.
 *
 * Membership: with `allowedHosts` or `allowedLabels` set, only the hosts they
 * name take part in the VNI (their ports put them in its flood list, their
 * reports into its FDB); the controller ignores and counts the others. With
 * neither (or both empty), every host may join.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, isHostId, mapAt, stringAt, type FieldReader } from './field-reader.js';
import { hasLabel, isLabelText, LABEL_SYNTAX } from './host-labels.js';
import type { HostRecord } from './host.js';
import type { RecordError } from './record-error.js';
import { ENCAPS, type Encap } from '../frames/encap.js';
import { readVtep } from './vtep.js';
import { DATAPATH_CHOICES, type DatapathChoice } from '../datapath/datapath-choice.js';

/**
 * 1.1 added `allowedHosts` and `allowedLabels` (optional: absent = every host),
 * 1.2 `datapath` (optional: absent = auto), 1.3 `flowExport` (optional:
 * absent = exported by sFlow and IPFIX, as before).
 */
export const NETWORK_RECORD_VERSION: SchemaVersion = { major: 1, minor: 3 };

/**
 * Whether a network's traffic is exported by sFlow (its frames sampled, its
 * ports' counters sent) and by IPFIX (its flows entered into the flow cache,
 * so also `dvs flows`), where the host has the exporter on. Only the
 * userspace datapath exports flows: a network the kernel provider serves is
 * exported by neither, whatever this says.
 */
export interface NetworkFlowExport {
  sflow: boolean;
  ipfix: boolean;
}

/** A network without `flowExport`: exported by both. */
export const FLOW_EXPORTED: Readonly<NetworkFlowExport> = Object.freeze({ sflow: true, ipfix: true });

/** The network's flow export choice, the default (both on) when the record has none. */
export function networkFlowExport(network: { flowExport?: NetworkFlowExport }): NetworkFlowExport {
  return network.flowExport ?? FLOW_EXPORTED;
}

/**
 * head-end: BUM frames are copied to every VTEP of the flood list.
 * none: no BUM copies leave the host (only known unicast crosses tunnels).
 */
export type FloodMode = 'head-end' | 'none';
export const FLOOD_MODES: readonly FloodMode[] = ['head-end', 'none'];

export const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * The overlay MTU rule (the IP MTU the VMs of a network get), one for the
 * controller API, the agent's config, records and the CLI:
 *  - at least 576, the datagram size every IPv4 host must accept (RFC 791);
 *    68, the smallest link MTU IPv4 allows, would make a network no VM can use;
 *  - at most 9000: a jumbo underlay of 9050 carries it (50 bytes of tunnel,
 *    see TUNNEL_IPV4_MTU_OVERHEAD), and the agent's buffers hold it;
 *  - default 1450: the overlay MTU of a 1500-byte IPv4 underlay.
 */
export const MIN_OVERLAY_MTU = 576;
export const MAX_OVERLAY_MTU = 9000;
export const DEFAULT_OVERLAY_MTU = 1450;

export function isValidOverlayMtu(mtu: unknown): mtu is number {
  return typeof mtu === 'number' && Number.isInteger(mtu) && mtu >= MIN_OVERLAY_MTU && mtu <= MAX_OVERLAY_MTU;
}
export const MAX_EXTERNAL_VTEPS = 256;
/** Most hosts and labels one network may list as allowed. */
export const MAX_ALLOWED_HOSTS = 4096;
export const MAX_ALLOWED_LABELS = 64;

export interface ExternalVtepRecord {
  address: string;
  port: number;
  description: string;
}

export interface NetworkRecord {
  vni: number;
  name: string;
  encap: Encap;
  mtu: number;
  floodMode: FloodMode;
  arpSuppression: boolean;
  externalVteps: ExternalVtepRecord[];
  /** Host ids that may join the VNI (see the module comment). */
  allowedHosts?: string[];
  /** `key=value` host labels that let a host join the VNI. */
  allowedLabels?: string[];
  /**
   * Which datapath provider should serve it on each host (absent: auto, the
   * host's VXLAN owner). See datapath/datapath-choice.ts: one UDP port, one owner.
   */
  datapath?: DatapathChoice;
  /** Which flow exporters see its traffic (absent: both; see NetworkFlowExport). */
  flowExport?: NetworkFlowExport;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export function encodeNetwork(record: NetworkRecord): Buffer {
  return encodeRecord(NETWORK_RECORD_VERSION, record);
}

export function decodeNetwork(buf: Uint8Array): NetworkRecord | RecordError {
  return decodeRecord('network', NETWORK_RECORD_VERSION, buf, (r) => {
    const name = r.string('name', 64);
    if (!NETWORK_NAME.test(name)) throw new FieldInvalid('name', 'expected letters, digits, ".", "_", "-" (1..64)');
    return {
      vni: r.vni('vni'),
      name,
      encap: r.oneOf('encap', ENCAPS),
      mtu: r.int('mtu', MIN_OVERLAY_MTU, MAX_OVERLAY_MTU),
      floodMode: r.oneOf('floodMode', FLOOD_MODES),
      arpSuppression: r.boolean('arpSuppression'),
      externalVteps: r.array('externalVteps', MAX_EXTERNAL_VTEPS, (v, path) => {
        const e = mapAt(v, path);
        return { ...readVtep(e), description: e.string('description', 256) };
      }),
      ...(r.has('allowedHosts')
        ? {
            allowedHosts: r.array('allowedHosts', MAX_ALLOWED_HOSTS, (v, path) => {
              if (!isHostId(v)) throw new FieldInvalid(path, 'expected a host id (letters, digits, ".", "_", "-")');
              return v;
            }),
          }
        : {}),
      ...(r.has('allowedLabels')
        ? {
            allowedLabels: r.array('allowedLabels', MAX_ALLOWED_LABELS, (v, path) => {
              const text = stringAt(v, path, 127);
              if (!isLabelText(text)) throw new FieldInvalid(path, `expected ${LABEL_SYNTAX}`);
              return text;
            }),
          }
        : {}),
      ...(r.has('datapath') ? { datapath: r.oneOf('datapath', DATAPATH_CHOICES) } : {}),
      ...(r.has('flowExport') ? { flowExport: readFlowExport(r.map_('flowExport')) } : {}),
      description: r.string('description', 1024),
      createdAt: r.time('createdAt'),
      updatedAt: r.time('updatedAt'),
    };
  });
}

/** Which exporters a choice names, as views show it: `sflow,ipfix`, one of them, or `none`. */
export function flowExportText(f: NetworkFlowExport): string {
  return [f.sflow ? 'sflow' : '', f.ipfix ? 'ipfix' : ''].filter((w) => w !== '').join(',') || 'none';
}

function readFlowExport(f: FieldReader): NetworkFlowExport {
  return { sflow: f.boolean('sflow'), ipfix: f.boolean('ipfix') };
}

/** True when the network restricts its membership (allowedHosts or allowedLabels not empty). */
export function networkIsRestricted(network: NetworkRecord): boolean {
  return (network.allowedHosts?.length ?? 0) > 0 || (network.allowedLabels?.length ?? 0) > 0;
}

/** True when `host` may take part in `network`: unrestricted, named, or carrying an allowed label. */
export function networkAdmitsHost(network: NetworkRecord, host: Pick<HostRecord, 'host' | 'labels'>): boolean {
  if (!networkIsRestricted(network)) return true;
  if (network.allowedHosts?.includes(host.host) === true) return true;
  return network.allowedLabels?.some((selector) => hasLabel(host.labels, selector)) === true;
}
