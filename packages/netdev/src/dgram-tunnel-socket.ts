import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { formatIpv4Address, formatIpv6Address, parseIpv4Address, parseIpv6Address } from '@dvs/wire';
import { NetdevError } from './errors.js';
import { EndpointLifecycle } from './endpoint-lifecycle.js';
import { ReadableNotifier } from './readable-notifier.js';
import type { PacketBatch } from './packet-batch.js';
import { checkHeadroom, checkSlots } from './slot-check.js';
import { checkTunnelOptions } from './tunnel-address.js';
import type { OpenTunnelOptions, TunnelSocket, TunnelSocketStats } from './types.js';

const V4_MAPPED_PREFIX = '::ffff:';
const MAX_UDP_PAYLOAD = 65507;

export interface DgramTunnelOptions extends OpenTunnelOptions {
  /** Datagrams received but not yet recv()'d beyond this are dropped (default 1024). */
  rxQueueLimit?: number;
  /** Sends handed to node:dgram but not completed; at the limit send() reports EAGAIN (default 1024). */
  sendQueueLimit?: number;
}

/**
 * The portable tunnel socket on node:dgram. Same contracts as the native one
 * (types.ts), at a price the benchmark shows: every send copies its packet into
 * a fresh Buffer (dgram keeps the buffer until the send completes, and the
 * caller reuses the batch right away), and every received datagram arrives as
 * its own 'message' event and Buffer, queued here (bounded) until recv().
 *
 * node:dgram has no EAGAIN: it queues sends without limit. We count sends in
 * flight and report EAGAIN (a short send() count) at sendQueueLimit instead.
 */
export class DgramTunnelSocket extends EndpointLifecycle implements TunnelSocket {
  readonly stats: TunnelSocketStats = { packetsReceived: 0, packetsSent: 0, recvDropsTooBig: 0, sendDropsInvalid: 0 };
  /** Datagrams dropped because the receive queue was full. */
  rxQueueDrops = 0;
  /** Sends node:dgram reported failed after send() took them (unreachable, …). */
  sendErrors = 0;
  private readonly rx: { data: Buffer; from: RemoteInfo }[] = [];
  private readonly rxQueueLimit: number;
  private readonly sendQueueLimit: number;
  private inFlight = 0;
  private writableHandler: (() => void) | null = null;
  private readonly readable = new ReadableNotifier(() => this.rx.length > 0);
  private readonly sent = (err: Error | null): void => {
    this.inFlight--;
    if (err) this.sendErrors++;
    if (this.writableHandler !== null && this.inFlight < this.sendQueueLimit) {
      const handler = this.writableHandler;
      this.writableHandler = null;
      handler();
    }
  };

  /** Use openDgramTunnelSocket(). */
  constructor(
    private readonly socket: Socket,
    private readonly family: 4 | 6,
    private readonly dualStack: boolean,
    readonly localAddress: string,
    readonly localPort: number,
    options: DgramTunnelOptions,
  ) {
    super();
    this.rxQueueLimit = options.rxQueueLimit ?? 1024;
    this.sendQueueLimit = options.sendQueueLimit ?? 1024;
    socket.on('message', (data, from) => this.received(data, from));
    // Without a listener a failed send would be thrown from the event loop.
    socket.on('error', () => this.sendErrors++);
  }

  recv(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    checkHeadroom(batch, headroom);
    let n = 0;
    while (n < batch.capacity && this.rx.length > 0) {
      const { data, from } = this.rx.shift() as { data: Buffer; from: RemoteInfo };
      if (!batch.putPacket(n, data, headroom)) {
        this.stats.recvDropsTooBig++;
        continue;
      }
      setSource(batch, n, from);
      n++;
    }
    this.stats.packetsReceived += n;
    return n;
  }

  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    this.assertOpen();
    checkSlots(batch, slots, n);
    let taken = 0;
    for (; taken < n; taken++) {
      if (this.inFlight >= this.sendQueueLimit) break;
      const slot = slots[taken];
      const address = this.destination(batch, slot);
      const len = batch.lengths[slot];
      if (address === null || len > MAX_UDP_PAYLOAD) {
        this.stats.sendDropsInvalid++;
        continue;
      }
      const start = batch.start(slot);
      // The copy the native path avoids: dgram may still hold the buffer after
      // send() returns, and the caller owns and reuses the batch.
      const copy = Buffer.allocUnsafe(len);
      batch.buffer.copy(copy, 0, start, start + len);
      this.inFlight++;
      this.socket.send(copy, batch.port[slot], address, this.sent);
      this.stats.packetsSent++;
    }
    return taken;
  }

  protected watchReadable(handler: (() => void) | null): void {
    this.readable.set(handler);
  }

  protected watchWritable(handler: (() => void) | null): void {
    this.writableHandler = handler;
    if (handler !== null && this.inFlight < this.sendQueueLimit) {
      this.writableHandler = null;
      setImmediate(() => {
        if (!this.isClosed) handler();
      });
    }
  }

  unref(): void {
    this.socket.unref();
  }

  ref(): void {
    this.socket.ref();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.readable.set(null);
    this.writableHandler = null;
    this.rx.length = 0;
    this.socket.close();
  }

  private received(data: Buffer, from: RemoteInfo): void {
    if (this.isClosed) return;
    if (this.rx.length >= this.rxQueueLimit) {
      this.rxQueueDrops++;
      return;
    }
    this.rx.push({ data, from });
    this.readable.poke();
  }

  private destination(batch: PacketBatch, slot: number): string | null {
    if (batch.port[slot] === 0) return null;
    const family = batch.family[slot];
    if (family === 4) {
      if (this.family === 4) return formatIpv4Address(batch.ipv4[slot]);
      return this.dualStack ? V4_MAPPED_PREFIX + formatIpv4Address(batch.ipv4[slot]) : null;
    }
    if (family === 6 && this.family === 6) return formatIpv6Address(batch.ipv6, slot * 16);
    return null;
  }

  protected describe(): string {
    return `socket ${this.localAddress}:${this.localPort}`;
  }
}

function setSource(batch: PacketBatch, slot: number, from: RemoteInfo): void {
  const ipv4 = parseIpv4Address(
    from.family === 'IPv4' || !from.address.startsWith(V4_MAPPED_PREFIX)
      ? from.address
      : from.address.slice(V4_MAPPED_PREFIX.length),
  );
  if (ipv4 !== null) {
    batch.setIpv4Destination(slot, ipv4, from.port);
    return;
  }
  batch.setIpv6Destination(slot, parseIpv6Address(from.address) ?? new Uint8Array(16), from.port);
}

/**
 * Opens the node:dgram tunnel socket (portable; the benchmark's baseline).
 * Throws NetdevError DVS_ADDRESS_INVALID, DVS_ADDRESS_IN_USE,
 * DVS_ADDRESS_UNAVAILABLE, DVS_PERMISSION or DVS_IO.
 */
export async function openDgramTunnelSocket(options: DgramTunnelOptions): Promise<DgramTunnelSocket> {
  options.signal?.throwIfAborted();
  const { parsed, dualStack } = checkTunnelOptions(options);
  if (options.reusePort === true) {
    throw new NetdevError(
      'DVS_NATIVE_UNAVAILABLE',
      'reusePort (one tunnel socket per worker) needs the native socket: build the netdev addon (scripts/bootstrap.sh)',
    );
  }
  const socket = createSocket({
    type: parsed.family === 4 ? 'udp4' : 'udp6',
    ipv6Only: parsed.family === 6 && !dualStack,
    recvBufferSize: options.recvBufferSize,
    sendBufferSize: options.sendBufferSize,
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.close();
      reject(bindError(err, options));
    };
    socket.once('error', onError);
    socket.bind({ address: options.address, port: options.port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return new DgramTunnelSocket(socket, parsed.family, dualStack, options.address, socket.address().port, options);
}

function bindError(err: NodeJS.ErrnoException, options: OpenTunnelOptions): NetdevError {
  const where = `bind ${options.address} port ${options.port}`;
  if (err.code === 'EADDRINUSE') return new NetdevError('DVS_ADDRESS_IN_USE', `${where}: in use`, err.code);
  if (err.code === 'EADDRNOTAVAIL') return new NetdevError('DVS_ADDRESS_UNAVAILABLE', `${where}: not here`, err.code);
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new NetdevError('DVS_PERMISSION', `${where}: permission denied`, err.code);
  }
  return new NetdevError('DVS_IO', `${where}: ${err.message}`, err.code);
}
