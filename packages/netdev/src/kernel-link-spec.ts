import { formatMac, ipAddressBytes, isUnicastMac, isValidMac, parseIpAddress, writeMac } from '@dvs/wire';
import { CENTISECONDS_PER_SECOND } from './kernel-link.js';
import type { BridgePortFlags } from './kernel-link.js';
import { LINK_MTU_MAX, LINK_MTU_MIN, isLinkMtu } from './link-mtu.js';
import type { NativeLinkChange, NativeLinkSpec } from './native-binding.js';
import { checkInteger, invalid } from './netlink-check.js';
import { checkInterfaceName } from './tap-device.js';

/** A device by name or by ifindex (in the Rtnetlink handle's namespace). */
export type LinkRef = string | number;

/** The IANA VXLAN port (RFC 7348). The kernel's own default is 8472, so dvs always says which. */
export const VXLAN_DEFAULT_PORT = 4789;
export const VNI_MAX = 0xffffff;
/** IFALIASZ - 1. */
export const LINK_ALIAS_MAX_BYTES = 255;
/** The bridge's ageing time is a 32-bit count of 1/100 s. */
const AGEING_SECONDS_MAX = Math.floor(0xffffffff / CENTISECONDS_PER_SECOND);

interface LinkSpecCommon {
  name: string;
  /** IFLA_IFALIAS: how a restarted agent recognises its devices ('dvs:…', see dvsLinkAlias). */
  alias?: string;
  mtu?: number;
  /**
   * The link-layer address (a unicast MAC as a number). A bridge given one
   * keeps it; without one it takes the lowest MAC of its ports, and each
   * change of that flushes the bridge's neighbour table (ARP/ND suppression's
   * bindings with it).
   */
  address?: number;
  /** Administratively up once created (default true). */
  up?: boolean;
}

/** createBridge(): one bridge per VNI in the kernel datapath. */
export interface BridgeSpec extends LinkSpecCommon {
  /** How long a MAC learned on a port stays without traffic (kernel default 300 s); 0: never ages. */
  ageingSeconds?: number;
  /** 802.1Q filtering on the bridge's ports (default off; needs CONFIG_BRIDGE_VLAN_FILTERING, which this lab's kernel lacks). */
  vlanFiltering?: boolean;
  /** Spanning tree (kernel default off; dvs's bridges have no loops). */
  stp?: boolean;
  /** IGMP/MLD snooping (kernel default on). */
  multicastSnooping?: boolean;
}

/**
 * createVxlan(): the VTEP of one VNI in the kernel datapath, or of every VNI
 * in external mode. No remote or group: BUM frames go to the all-zeros FDB
 * entries (head-end replication, one per flood-list VTEP).
 */
export interface VxlanSpec extends LinkSpecCommon {
  /** 0..16777215; required unless `external`. */
  vni?: number;
  /** The local VTEP address (IFLA_VXLAN_LOCAL/LOCAL6): the source of tunnel packets. */
  local?: string;
  /** UDP destination port and the port the device listens on (default 4789). */
  port?: number;
  /** Bind to this underlay device (IFLA_VXLAN_LINK). */
  underlay?: LinkRef;
  /**
   * Data-plane learning of remote MACs (default false: remote MACs follow the
   * control plane only). With `master`, also the bridge port's learning.
   */
  learning?: boolean;
  /** External (collect-metadata) mode: one device carries every VNI (`vni` must be absent). */
  external?: boolean;
  /** With `external`: accept only the VNIs added to the device's VNI filter. */
  vniFilter?: boolean;
  /** Outer TTL, 1..255 (default: the kernel's, inherit/auto). */
  ttl?: number;
  /** How long a learned entry stays (seconds; only with learning). */
  ageingSeconds?: number;
  /** Most FDB entries the device takes (0: no limit). */
  maxEntries?: number;
  /** UDP checksums over IPv4 (kernel default on). */
  udpChecksum?: boolean;
  /** IPv6 underlay: send with a zero UDP checksum (`udp6zerocsumtx`). */
  udp6ZeroChecksumTx?: boolean;
  /** IPv6 underlay: accept a zero UDP checksum (`udp6zerocsumrx`). */
  udp6ZeroChecksumRx?: boolean;
  /** Enslave to this bridge at creation. */
  master?: LinkRef;
  /** With `master`: the bridge port's flags (learning follows `learning` unless given here). */
  bridgePort?: Partial<BridgePortFlags>;
}

/** setLink(): what to change; absent fields stay as they are. */
export interface LinkChange {
  mtu?: number;
  /** The link-layer address (a unicast MAC as a number), as LinkSpecCommon.address. */
  address?: number;
  up?: boolean;
  /** Enslave to this bridge; null releases the link from its master. */
  master?: LinkRef | null;
  /** null removes the alias. */
  alias?: string | null;
  /** The bridge port's flags (the link is, or becomes with `master`, a bridge port). */
  bridgePort?: Partial<BridgePortFlags>;
}

const BRIDGE_PORT_FLAGS: readonly (keyof BridgePortFlags)[] = [
  'learning',
  'neighSuppress',
  'unicastFlood',
  'multicastFlood',
  'broadcastFlood',
  'hairpin',
  'isolated',
];

/** Resolves a LinkRef to an ifindex (throws DVS_NO_DEVICE naming `field`). */
export type LinkResolver = (ref: LinkRef, field: string) => number;

function checkBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') invalid(field, `must be true or false, got ${String(value)}`);
  return value;
}

function checkMtu(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!isLinkMtu(value)) invalid(field, `must be an integer of ${LINK_MTU_MIN}..${LINK_MTU_MAX}, got ${String(value)}`);
  return value;
}

function checkAddress(value: unknown, field: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (!isValidMac(value) || !isUnicastMac(value) || value === 0) {
    invalid(
      field,
      `must be a unicast MAC other than 00:00:00:00:00:00, got ${isValidMac(value) ? formatMac(value) : String(value)}`,
    );
  }
  const bytes = new Uint8Array(6);
  writeMac(bytes, 0, value);
  return bytes;
}

function checkAlias(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || Buffer.byteLength(value) > LINK_ALIAS_MAX_BYTES) {
    invalid(field, `must be a string of at most ${LINK_ALIAS_MAX_BYTES} bytes`);
  }
  return value;
}

/** @internal Checks a bridge-port flag set; every key must be a known flag with a boolean. */
export function checkBridgePortFlags(value: unknown, field: string): Partial<BridgePortFlags> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) invalid(field, 'must be an object of flags');
  const out: { -readonly [K in keyof BridgePortFlags]?: boolean } = {};
  for (const [key, flag] of Object.entries(value)) {
    if (!BRIDGE_PORT_FLAGS.includes(key as keyof BridgePortFlags)) {
      invalid(`${field}.${key}`, `is not a bridge port flag (one of ${BRIDGE_PORT_FLAGS.join(', ')})`);
    }
    out[key as keyof BridgePortFlags] = checkBoolean(flag, `${field}.${key}`);
  }
  return out;
}

function commonSpec(spec: LinkSpecCommon, kind: 'bridge' | 'vxlan'): NativeLinkSpec {
  if (typeof spec !== 'object' || spec === null) invalid(kind, 'must be an object');
  checkInterfaceName(spec.name);
  checkAlias(spec.alias, 'alias');
  const mtu = checkMtu(spec.mtu, 'mtu');
  const address = checkAddress(spec.address, 'address');
  return {
    kind,
    name: spec.name,
    up: checkBoolean(spec.up, 'up') ?? true,
    ...(mtu !== undefined && { mtu }),
    ...(address !== undefined && { address }),
  };
}

/** @internal The native request for createBridge(), every value checked. */
export function bridgeRequest(spec: BridgeSpec): NativeLinkSpec {
  const request = commonSpec(spec, 'bridge');
  const ageing = spec.ageingSeconds;
  if (ageing !== undefined) checkInteger(ageing, 'ageingSeconds', 0, AGEING_SECONDS_MAX);
  const stp = checkBoolean(spec.stp, 'stp');
  request.bridge = {
    ...(ageing !== undefined && { ageingCentiseconds: ageing * CENTISECONDS_PER_SECOND }),
    ...(stp !== undefined && { stpState: stp ? 1 : 0 }),
    // Off is a new bridge's state, and a kernel built without VLAN filtering
    // refuses the attribute even when it says off: send it only to turn it on.
    ...(checkBoolean(spec.vlanFiltering, 'vlanFiltering') === true && { vlanFiltering: true }),
    multicastSnooping: checkBoolean(spec.multicastSnooping, 'multicastSnooping'),
  };
  return request;
}

/** @internal The native request for createVxlan(), every value checked and references resolved. */
export function vxlanRequest(spec: VxlanSpec, resolve: LinkResolver): NativeLinkSpec {
  const request = commonSpec(spec, 'vxlan');
  const external = checkBoolean(spec.external, 'external') ?? false;
  if (external && spec.vni !== undefined) invalid('vni', 'must be absent in external mode (the VNI comes per packet)');
  if (!external && spec.vni === undefined) invalid('vni', `is required (0..${VNI_MAX}) unless external is true`);
  if (spec.vni !== undefined) checkInteger(spec.vni, 'vni', 0, VNI_MAX);
  const vniFilter = checkBoolean(spec.vniFilter, 'vniFilter');
  if (vniFilter === true && !external) invalid('vniFilter', 'needs external: true');
  let local: Uint8Array | undefined;
  if (spec.local !== undefined) {
    const parsed = typeof spec.local === 'string' ? parseIpAddress(spec.local) : null;
    if (parsed === null) invalid('local', `must be an IPv4 or IPv6 address, got ${String(spec.local)}`);
    local = ipAddressBytes(parsed);
  }
  const port = spec.port ?? VXLAN_DEFAULT_PORT;
  checkInteger(port, 'port', 1, 65535);
  if (spec.ttl !== undefined) checkInteger(spec.ttl, 'ttl', 1, 255);
  if (spec.ageingSeconds !== undefined) checkInteger(spec.ageingSeconds, 'ageingSeconds', 0, 0xffffffff);
  if (spec.maxEntries !== undefined) checkInteger(spec.maxEntries, 'maxEntries', 0, 0xffffffff);
  const learning = checkBoolean(spec.learning, 'learning') ?? false;
  checkBridgePortFlags(spec.bridgePort, 'bridgePort');
  if (spec.bridgePort !== undefined && spec.master === undefined) invalid('bridgePort', 'needs master (a bridge)');
  request.vxlan = {
    ...(spec.vni !== undefined && { vni: spec.vni }),
    ...(local !== undefined && { local }),
    port,
    ...(spec.underlay !== undefined && { underlay: resolve(spec.underlay, 'underlay') }),
    learning,
    external,
    vniFilter,
    ttl: spec.ttl,
    ageing: spec.ageingSeconds,
    limit: spec.maxEntries,
    udpChecksum: checkBoolean(spec.udpChecksum, 'udpChecksum'),
    udp6ZeroChecksumTx: checkBoolean(spec.udp6ZeroChecksumTx, 'udp6ZeroChecksumTx'),
    udp6ZeroChecksumRx: checkBoolean(spec.udp6ZeroChecksumRx, 'udp6ZeroChecksumRx'),
  };
  if (spec.master !== undefined) request.master = resolve(spec.master, 'master');
  return request;
}

/** @internal The native change for setLink(), every value checked and references resolved. */
export function linkChangeRequest(change: LinkChange, resolve: LinkResolver): NativeLinkChange {
  if (typeof change !== 'object' || change === null) invalid('change', 'must be an object');
  const request: NativeLinkChange = {};
  const mtu = checkMtu(change.mtu, 'mtu');
  if (mtu !== undefined) request.mtu = mtu;
  const address = checkAddress(change.address, 'address');
  if (address !== undefined) request.address = address;
  const up = checkBoolean(change.up, 'up');
  if (up !== undefined) request.up = up;
  if (change.master !== undefined) request.master = change.master === null ? 0 : resolve(change.master, 'master');
  if (change.alias !== undefined) request.alias = change.alias === null ? '' : checkAlias(change.alias, 'alias');
  const bridgePort = checkBridgePortFlags(change.bridgePort, 'bridgePort');
  if (bridgePort !== undefined) request.bridgePort = bridgePort;
  return request;
}
