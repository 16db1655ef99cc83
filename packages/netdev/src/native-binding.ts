import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NetdevError } from './errors.js';

/**
 * The compiled addon (src/native/*.cc, built by node-gyp into
 * build/Release/dvs_netdev.node during `npm ci` or by scripts/bootstrap.sh).
 * Loaded lazily, so the fakes and the dgram socket work without it.
 *
 * Batch arguments are always (buffer, slotSize, capacity, offsets, lengths),
 * checked again natively so a bad call can never touch memory outside the batch.
 */
export interface FdHandle {
  readonly fd: number;
  /** 1 readable | 2 writable; 0 stops. */
  watch(events: number): void;
  ref(): void;
  unref(): void;
  close(): void;
}

/** A link as the addon reports it (src/native/rtnetlink.cc); LinkInfo is made from it. */
export interface NativeLinkRecord {
  ifindex: number;
  name: string;
  mtu: number;
  /** IFF_* flags. */
  flags: number;
  /** ARPHRD_* type. */
  type: number;
  /** IF_OPER_* (RFC 2863). */
  operState: number;
  /** IFLA_INFO_KIND, '' when the driver has none. */
  kind: string;
  /** For kind 'tun': 1 TUN, 2 TAP; else 0. */
  tunType: number;
  master: number;
  parent: number;
  mac: string;
  /** IFLA_IFALIAS, '' when none. */
  alias: string;
  deleted: boolean;
  /** linkMonitorRead only: part of the dump asked for, not a notification. */
  dumped?: boolean;
  vxlan?: {
    vni: number | null;
    local: string;
    group: string;
    port: number;
    underlay: number;
    learning: boolean;
    external: boolean;
    vniFilter: boolean;
    ttl: number;
    ageing: number;
    limit: number;
    udpChecksum: boolean;
    udp6ZeroChecksumTx: boolean;
    udp6ZeroChecksumRx: boolean;
  };
  bridge?: { ageingCentiseconds: number; stpState: number; vlanFiltering: boolean; multicastSnooping: boolean };
  bridgePort?: NativeBridgePortFlags & { state: number };
  /** rtnlLinks(…, counters: true) only: IFLA_STATS64. */
  counters?: {
    rxPackets: number;
    txPackets: number;
    rxBytes: number;
    txBytes: number;
    rxErrors: number;
    txErrors: number;
    rxDropped: number;
    txDropped: number;
    multicast: number;
  };
}

export interface NativeBridgePortFlags {
  learning: boolean;
  neighSuppress: boolean;
  unicastFlood: boolean;
  multicastFlood: boolean;
  broadcastFlood: boolean;
  hairpin: boolean;
  isolated: boolean;
}

/** rtnlLinkCreate's spec (src/native/link-program.cc); every value checked by src/kernel-link-spec.ts first. */
export interface NativeLinkSpec {
  kind: 'bridge' | 'vxlan';
  name: string;
  mtu?: number;
  /** IFLA_ADDRESS: the link-layer address, 6 bytes. */
  address?: Uint8Array;
  master?: number;
  up: boolean;
  bridge?: { ageingCentiseconds?: number; vlanFiltering?: boolean; stpState?: number; multicastSnooping?: boolean };
  vxlan?: {
    vni?: number;
    local?: Uint8Array;
    port?: number;
    underlay?: number;
    learning: boolean;
    external: boolean;
    vniFilter?: boolean;
    ttl?: number;
    ageing?: number;
    limit?: number;
    udpChecksum?: boolean;
    udp6ZeroChecksumTx?: boolean;
    udp6ZeroChecksumRx?: boolean;
  };
}

/** rtnlLinkSet's change. */
export interface NativeLinkChange {
  mtu?: number;
  /** IFLA_ADDRESS: the link-layer address, 6 bytes. */
  address?: Uint8Array;
  up?: boolean;
  /** 0 releases the link from its master. */
  master?: number;
  /** '' removes the alias. */
  alias?: string;
  bridgePort?: Partial<NativeBridgePortFlags>;
}

/** An AF_BRIDGE neighbour (FDB entry) as src/native/neighbour.cc reports it. */
export interface NativeFdbRecord {
  ifindex: number;
  master: number;
  mac: number;
  vlan: number;
  /** NUD_* */
  state: number;
  /** NTF_* */
  flags: number;
  dst: string;
  dstPort: number;
  vni: number | null;
  srcVni: number | null;
  via: number;
  deleted: boolean;
  dumped?: boolean;
}

/** One IP neighbour change as src/native/ip-neighbour.cc reads it. */
export interface NativeIpNeighChange {
  op: 'replace' | 'del';
  ifindex: number;
  family: 4 | 6;
  address: Buffer;
  mac: number;
  state: number;
  flags: number;
}

/** One IP neighbour as src/native/ip-neighbour.cc dumps it (mac -1: none). */
export interface NativeIpNeighRecord {
  family: 4 | 6;
  ifindex: number;
  address: string;
  mac: number;
  state: number;
  flags: number;
}

/** The TPACKET_V2/V3 receive ring of an attached device (src/native/packet-ring.cc). */
export interface PacketRingHandle {
  recv(...args: [...BatchArgs, headroom: number, family: Uint8Array, out: Float64Array]): number;
  close(): void;
}

type BatchArgs = [buffer: Buffer, slotSize: number, capacity: number, offsets: Uint32Array, lengths: Uint32Array];
type AddressArgs = [family: Uint8Array, ipv4: Uint32Array, ipv6: Buffer, port: Uint16Array];

/** tapRead and attachRecv: one argument list (src/native/common.h ReadBatchWithHeadroom) -> frames read. */
export type NativeFrameRead = (
  fd: number,
  ...args: [...BatchArgs, headroom: number, family: Uint8Array, counters: Float64Array, vnetHeaderLength?: number]
) => number;

/** tapWrite and attachSend: one argument list (src/native/common.h FrameWriteArgs) -> slots consumed. */
export type NativeFrameWrite = (
  fd: number,
  ...args: [
    ...BatchArgs,
    slots: Uint32Array,
    n: number,
    counters: Float64Array,
    vnetHeaderLength?: number,
    headerless?: boolean,
  ]
) => number;

export interface NativeBinding {
  FdHandle: new (fd: number, callback: (events: number, status: number) => void) => FdHandle;
  tapOpen(options: {
    name: string;
    persistent: number;
    owner: number;
    group: number;
    mtu: number;
    up: boolean;
    vnetHeaderLength: number;
    multiQueue?: boolean;
  }): {
    fd: number;
    name: string;
    mtu: number;
    existed: boolean;
  };
  /** counters: [too big]. */
  tapRead: NativeFrameRead;
  /** counters: [invalid, link down]. */
  tapWrite: NativeFrameWrite;
  /** TUNSETOFFLOAD: 0, or the errno of the kernel's refusal. */
  tapSetOffload(fd: number, mask: number): number;
  udpOpen(
    family: number,
    address: Uint8Array,
    port: number,
    recvBufferSize: number,
    sendBufferSize: number,
    dualStack: boolean,
    reusePort?: boolean,
  ): { fd: number; port: number };
  /** UDP_GRO on: 0, or the errno of the kernel's refusal. */
  udpEnableGro(fd: number): number;
  udpRecv(
    fd: number,
    ...args: [...BatchArgs, headroom: number, ...AddressArgs, drops: Float64Array, segmentSize?: Uint16Array]
  ): number;
  udpSend(
    fd: number,
    ...args: [
      ...BatchArgs,
      slots: Uint32Array,
      n: number,
      ...AddressArgs,
      socketFamily: number,
      drops: Float64Array,
      gso?: Float64Array,
      sourcePort?: Uint16Array,
      poolFds?: Int32Array,
      poolPorts?: Uint16Array,
    ]
  ): number;
  PacketRing: new (
    fd: number,
    version: 2 | 3,
    blockSize: number,
    blockCount: number,
    frameSize: number,
  ) => PacketRingHandle;
  attachOpen(options: {
    ifindex: number;
    ringVersion: number;
    ringBlockSize: number;
    ringBlockCount: number;
    ringFrameSize: number;
    qdiscBypass: boolean;
    promiscuous: boolean;
    receiveBufferBytes: number;
    up: boolean;
    vnetHeader?: boolean;
  }): { fd: number; vnetHeaderErrno: number };
  /** counters: [too big, link error pending, 802.1Q tags restored, no vnet header]. */
  attachRecv: NativeFrameRead;
  /** counters: [invalid, link down, device gone, queue full]. */
  attachSend: NativeFrameWrite;
  attachStatus(fd: number): { error: string; ifindex: number };
  attachMtu(fd: number, ifindex: number): number;
  attachKernelStats(fd: number): { packets: number; drops: number };
  linkQuery(name: string): NativeLinkRecord[];
  linkMonitorOpen(bufferBytes: number): number;
  linkMonitorRead(fd: number, dump: boolean): { records: NativeLinkRecord[]; overflow: boolean };
  rtnlOpen(receiveBufferBytes: number): number;
  rtnlLinks(fd: number, name: string, ifindex: number, counters: boolean): NativeLinkRecord[];
  rtnlLinkCreate(fd: number, spec: NativeLinkSpec): void;
  rtnlLinkSet(fd: number, ifindex: number, change: NativeLinkChange): void;
  rtnlLinkDelete(fd: number, ifindex: number): void;
  fdbApply(
    fd: number,
    records: Buffer,
    count: number,
    errors: Int32Array,
    batchMessages: number,
  ): { index: number; message: string }[];
  fdbDump(fd: number, ifindex: number, master: number): NativeFdbRecord[];
  fdbMonitorOpen(bufferBytes: number): number;
  /** tables: 0 every entry, 1 bridges' tables ('master') only, 2 devices' own ('self') only. */
  fdbMonitorRead(fd: number, dump: boolean, tables: 0 | 1 | 2): { records: NativeFdbRecord[]; overflow: boolean };
  ipNeighApply(fd: number, changes: NativeIpNeighChange[]): { index: number; errno: number; message: string }[];
  ipNeighDump(fd: number, ifindex: number): NativeIpNeighRecord[];
  snoopOpen(receiveBufferBytes: number): number;
  snoopRecv(fd: number, buffer: Buffer): { ifindex: number; length: number } | null;
  netnsEnter(path: string): number;
  netnsRestore(savedFd: number): void;
  /** The stage trace (src/native/stage-trace.h; stage-trace.ts). */
  stageTraceStart(capacity: number): void;
  stageTraceTake(): Float64Array;
  stageTraceStop(): void;
  stageMark(mark: number): void;
  /** The loop spin (src/native/loop-spin.h; loop-spin.ts). */
  loopSpin(budgetUs: number): void;
  loopSpinStats(): Float64Array;
}

/** Where node-gyp puts the addon, relative to this file (dist/src/). */
const ADDON_PATH = fileURLToPath(new URL('../../build/Release/dvs_netdev.node', import.meta.url));

let binding: NativeBinding | null = null;

export function nativeBinding(): NativeBinding {
  if (binding !== null) return binding;
  try {
    binding = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
  } catch (err) {
    throw new NetdevError(
      'DVS_NATIVE_UNAVAILABLE',
      `the native addon is not built (${ADDON_PATH}): run scripts/bootstrap.sh or npm ci (${(err as Error).message})`,
    );
  }
  return binding;
}

/** True when the addon can be loaded (it is built and this is Linux). */
export function nativeAvailable(): boolean {
  try {
    nativeBinding();
    return true;
  } catch {
    return false;
  }
}

/** The error shape the addon throws for a failed system call. */
export interface NativeSystemError extends Error {
  errno: string;
  syscall: string;
  /** Netlink requests: the kernel's extended-ack text ('' when it gave none). */
  detail?: string;
}

export function isNativeSystemError(err: unknown): err is NativeSystemError {
  return err instanceof Error && typeof (err as Partial<NativeSystemError>).errno === 'string';
}
