import { errnoName } from './errno-names.js';
import { WatchedFd } from './watched-fd.js';
import { nativeBinding } from './native-binding.js';
import type { PacketBatch } from './packet-batch.js';
import { checkHeadroom, checkSlots } from './slot-check.js';
import { SlotList } from './slot-list.js';
import { SourcePortPool } from './source-port-pool.js';
import { datagramsInSlot } from './super-datagram-views.js';
import { toNetdevError } from './system-error.js';
import { checkTunnelOptions } from './tunnel-address.js';
import type { OffloadRefusal, OpenTunnelOptions, TunnelSocket, TunnelSocketStats } from './types.js';

/** udpSend's drops array: [dropped, last refused errno, refusals by errno 0..133]. */
const SEND_DROP_SLOTS = 2 + 134;
/** udpSend's gso[0] once the kernel refused UDP_SEGMENT: plain datagrams from then on. */
const GSO_DISABLED = 2;
/**
 * DVS_UDP_GSO=0 in the environment turns UDP GSO off for every native socket
 * of this process: for A/B measurements in one sitting, and as an escape hatch.
 */
const GSO_ALLOWED = process.env.DVS_UDP_GSO !== '0';
/** DVS_UDP_GRO=0 does the same for UDP_GRO on receive (openTunnelSocket's receiveOffload). */
const GRO_ALLOWED = process.env.DVS_UDP_GRO !== '0';

/**
 * The Linux tunnel socket: sendmmsg/recvmmsg through the addon, readiness by
 * uv_poll on Node's loop. Every TunnelSocket contract in types.ts holds; in
 * addition send() and recv() make one N-API crossing and (usually) one system
 * call per batch, and nothing is copied in JS. send() coalesces runs of
 * listed slots to one destination with one length into UDP GSO messages
 * (stats.sendSegmentation, sendGsoMessages).
 */
export class NativeTunnelSocket extends WatchedFd implements TunnelSocket {
  readonly stats: TunnelSocketStats = {
    packetsReceived: 0,
    packetsSent: 0,
    recvDropsTooBig: 0,
    sendDropsInvalid: 0,
    sendDropsByErrno: {},
    sendSegmentation: GSO_ALLOWED ? 'gso' : 'plain',
    sendGsoMessages: 0,
    recvCoalescing: 'plain',
    recvGroMessages: 0,
  };
  /** udpRecv's counters: [too big, super-datagrams]. */
  private readonly drops = new Float64Array(2);
  private readonly sendDrops = new Float64Array(SEND_DROP_SLOTS);
  /** udpSend's UDP GSO state, kept across calls: [mode (GSO_DISABLED once refused), GSO messages sent]. */
  private readonly gso: Float64Array | undefined = GSO_ALLOWED ? new Float64Array(2) : undefined;
  private lastRefusal: string | null = null;
  private readonly slotList = new SlotList();

  /** Use openTunnelSocket(). */
  constructor(
    private readonly fd: number,
    private readonly family: 4 | 6,
    readonly localAddress: string,
    readonly localPort: number,
    private readonly pool: SourcePortPool | null = null,
    /** UDP_GRO is on (the caller enabled it on fd). */
    readonly receivesSuperDatagrams = false,
    readonly groRefusal: OffloadRefusal | null = null,
  ) {
    super(fd);
    if (receivesSuperDatagrams) this.stats.recvCoalescing = 'gro';
  }

  get sourcePorts(): readonly number[] {
    return this.pool === null ? [] : this.pool.ports;
  }

  override close(): void {
    if (!this.isClosed) this.pool?.close();
    super.close();
  }

  get lastSendError(): string | null {
    return this.lastRefusal;
  }

  recv(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    checkHeadroom(batch, headroom);
    this.drops[0] = 0;
    this.drops[1] = 0;
    let n: number;
    try {
      n = nativeBinding().udpRecv(
        this.fd,
        batch.buffer,
        batch.slotSize,
        batch.capacity,
        batch.offsets,
        batch.lengths,
        headroom,
        batch.family,
        batch.ipv4,
        batch.ipv6,
        batch.port,
        this.drops,
        batch.segmentSize,
      );
    } catch (err) {
      throw toNetdevError(err, `recv on ${this.localAddress}:${this.localPort}`);
    }
    this.stats.recvDropsTooBig += this.drops[0];
    if (this.drops[1] === 0) {
      this.stats.packetsReceived += n;
      return n;
    }
    this.stats.recvGroMessages = (this.stats.recvGroMessages as number) + this.drops[1];
    this.stats.packetsReceived += datagramsIn(batch, n);
    return n;
  }

  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    this.assertOpen();
    checkSlots(batch, slots, n);
    const drops = this.sendDrops;
    drops[0] = 0;
    drops[1] = 0;
    this.lastRefusal = null;
    let taken: number;
    const pool = this.pool;
    try {
      taken = nativeBinding().udpSend(
        this.fd,
        batch.buffer,
        batch.slotSize,
        batch.capacity,
        batch.offsets,
        batch.lengths,
        this.slotList.of(slots, n),
        n,
        batch.family,
        batch.ipv4,
        batch.ipv6,
        batch.port,
        this.family,
        drops,
        this.gso,
        pool === null ? undefined : batch.sourcePort,
        pool?.fds,
        pool?.portArray,
      );
    } catch (err) {
      throw toNetdevError(err, `send on ${this.localAddress}:${this.localPort}`);
    }
    this.stats.sendDropsInvalid += drops[0];
    this.stats.packetsSent += taken - drops[0];
    const gso = this.gso;
    if (gso !== undefined) {
      this.stats.sendGsoMessages = gso[1];
      if (gso[0] === GSO_DISABLED) this.stats.sendSegmentation = 'plain';
    }
    if (drops[1] !== 0) this.recordRefusals();
    return taken;
  }

  /** Off the common path: only after a send() in which the kernel refused a datagram. */
  private recordRefusals(): void {
    const drops = this.sendDrops;
    this.lastRefusal = errnoName(drops[1]);
    const byErrno = (this.stats.sendDropsByErrno ??= {});
    for (let e = 0; e < SEND_DROP_SLOTS - 2; e++) {
      if (drops[2 + e] === 0) continue;
      const name = errnoName(e);
      byErrno[name] = (byErrno[name] ?? 0) + drops[2 + e];
      drops[2 + e] = 0;
    }
  }

  protected describe(): string {
    return `socket ${this.localAddress}:${this.localPort}`;
  }
}

/** Datagrams in slots 0..n-1, a super-datagram counting each one it holds. */
function datagramsIn(batch: PacketBatch, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) count += datagramsInSlot(batch, i);
  return count;
}

/** UDP_GRO on fd, or why not. */
function enableGro(fd: number): OffloadRefusal | null {
  const errno = nativeBinding().udpEnableGro(fd);
  if (errno === 0) return null;
  const name = errnoName(errno);
  const reason =
    name === 'ENOPROTOOPT'
      ? 'the kernel has no UDP_GRO (Linux < 5.0): datagrams are received one by one'
      : 'the kernel refused UDP_GRO: datagrams are received one by one';
  return Object.freeze({ offload: 'udpGro' as const, errno: name, reason });
}

/**
 * Opens the native (sendmmsg/recvmmsg) tunnel socket, the default on Linux.
 * Throws NetdevError DVS_ADDRESS_INVALID, DVS_ADDRESS_IN_USE,
 * DVS_ADDRESS_UNAVAILABLE, DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE or DVS_IO.
 */
export async function openTunnelSocket(options: OpenTunnelOptions): Promise<NativeTunnelSocket> {
  options.signal?.throwIfAborted();
  return openTunnelSocketSync(options);
}

/** openTunnelSocket() without the promise: for code that must open inside a synchronous namespace switch. */
export function openTunnelSocketSync(options: OpenTunnelOptions): NativeTunnelSocket {
  const { parsed, dualStack } = checkTunnelOptions(options);
  const bytes =
    parsed.family === 4
      ? new Uint8Array([parsed.ipv4 >>> 24, (parsed.ipv4 >>> 16) & 255, (parsed.ipv4 >>> 8) & 255, parsed.ipv4 & 255])
      : parsed.ipv6;
  let opened: { fd: number; port: number };
  try {
    opened = nativeBinding().udpOpen(
      parsed.family,
      bytes,
      options.port,
      options.recvBufferSize ?? 0,
      options.sendBufferSize ?? 0,
      dualStack,
      options.reusePort === true,
    );
  } catch (err) {
    throw toNetdevError(err, `bind ${options.address} port ${options.port}`);
  }
  let pool: SourcePortPool | null = null;
  if (options.sourcePorts !== undefined) {
    try {
      pool = SourcePortPool.open(options.sourcePorts, parsed.family, bytes, dualStack, options.sendBufferSize ?? 0);
    } catch (err) {
      new (nativeBinding().FdHandle)(opened.fd, () => {}).close();
      throw err;
    }
  }
  const groRefusal = options.receiveOffload === true && GRO_ALLOWED ? enableGro(opened.fd) : null;
  const gro = options.receiveOffload === true && GRO_ALLOWED && groRefusal === null;
  return new NativeTunnelSocket(opened.fd, parsed.family, options.address, opened.port, pool, gro, groRefusal);
}
