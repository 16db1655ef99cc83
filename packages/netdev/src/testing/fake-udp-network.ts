import { NetdevError } from '../errors.js';
import { parseIpAddress } from '@dvs/wire';
import { slotAddressText } from '../ip-address.js';
import type { PacketBatch } from '../packet-batch.js';
import { checkHeadroom, checkSlots } from '../slot-check.js';
import type { OpenTunnelOptions, TunnelSocket, TunnelSocketStats } from '../types.js';
import { FakeWatchedFd } from './fake-watched-fd.js';

/**
 * An in-memory UDP underlay for unit tests. FakeTunnelSockets bound on one
 * FakeUdpNetwork deliver datagrams to each other by address:port, with the
 * sender's bound address as source, and honour every TunnelSocket contract
 * (types.ts); they pass the same compliance suite as the real sockets.
 *
 *  - A socket bound to '0.0.0.0' receives IPv4 to any address on its port; one
 *    bound to '::' receives both families. A wildcard-bound sender's source is
 *    `network.defaultSource4` / `defaultSource6` (127.0.0.1 / ::1 by default).
 *  - Datagrams to nobody are dropped and counted (`network.stats.undeliverable`).
 *  - `network.filter` sees every datagram before delivery; returning false drops
 *    it (loss, partitions, captures in tests).
 *  - `socket.sendBudget` simulates EAGAIN: send() takes at most that many more.
 *  - Receive queues are bounded (`rxQueueLimit`, default 1024): overflow is
 *    dropped and counted, as a full SO_RCVBUF would.
 */
export interface FakeDatagram {
  from: { address: string; port: number };
  to: { address: string; port: number };
  data: Buffer;
}

interface QueuedDatagram {
  family: 4 | 6;
  ipv4: number;
  ipv6: Uint8Array | null;
  port: number;
  data: Buffer;
}

type Bound = { family: 4; ipv4: number } | { family: 6; ipv6: Uint8Array };

const EPHEMERAL_FIRST = 40000;
const MAX_UDP_PAYLOAD = 65507;

export class FakeUdpNetwork {
  readonly stats = { delivered: 0, undeliverable: 0, filtered: 0 };
  filter: ((datagram: FakeDatagram) => boolean) | null = null;
  defaultSource4 = '127.0.0.1';
  defaultSource6 = '::1';
  private readonly sockets = new Map<string, FakeTunnelSocket>();
  private nextPort = EPHEMERAL_FIRST;

  /** Binds a socket, like openTunnelSocket() on a real host. Throws DVS_ADDRESS_IN_USE / DVS_ADDRESS_INVALID. */
  bind(options: OpenTunnelOptions & { rxQueueLimit?: number }): FakeTunnelSocket {
    const parsed = parseIpAddress(options.address);
    if (parsed === null) throw new NetdevError('DVS_ADDRESS_INVALID', `not an IP address: ${options.address}`);
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new NetdevError('DVS_ADDRESS_INVALID', `port must be 0..65535, got ${options.port}`);
    }
    const text = canonical(options.address);
    let port = options.port;
    if (port === 0) {
      do port = this.nextPort++;
      while (this.sockets.has(bindKey(text, port)));
    }
    const key = bindKey(text, port);
    if (this.sockets.has(key))
      throw new NetdevError('DVS_ADDRESS_IN_USE', `${text} port ${port} is in use`, 'EADDRINUSE');
    const socket = new FakeTunnelSocket(this, text, port, parsed, options.rxQueueLimit ?? 1024);
    this.sockets.set(key, socket);
    return socket;
  }

  /** @internal called by FakeTunnelSocket.close() */
  unbind(socket: FakeTunnelSocket): void {
    this.sockets.delete(bindKey(socket.localAddress, socket.localPort));
  }

  /** @internal delivers one datagram; false when it had no receiver or was filtered. */
  deliver(from: FakeTunnelSocket, to: QueuedDatagram, toAddress: string, data: Buffer): boolean {
    const source = from.sourceFor(to.family);
    if (this.filter !== null) {
      const keep = this.filter({
        from: { address: source.text, port: from.localPort },
        to: { address: toAddress, port: to.port },
        data,
      });
      if (!keep) {
        this.stats.filtered++;
        return false;
      }
    }
    const receiver =
      this.sockets.get(bindKey(toAddress, to.port)) ??
      this.sockets.get(bindKey(to.family === 4 ? '0.0.0.0' : '::', to.port)) ??
      (to.family === 4 ? this.sockets.get(bindKey('::', to.port)) : undefined);
    if (receiver === undefined) {
      this.stats.undeliverable++;
      return false;
    }
    receiver.enqueue({ ...source.slot, port: from.localPort, data: Buffer.from(data) });
    this.stats.delivered++;
    return true;
  }
}

export class FakeTunnelSocket extends FakeWatchedFd implements TunnelSocket {
  readonly stats: TunnelSocketStats = { packetsReceived: 0, packetsSent: 0, recvDropsTooBig: 0, sendDropsInvalid: 0 };
  /** Datagrams dropped because the receive queue was full. */
  rxQueueDrops = 0;
  private readonly rx: QueuedDatagram[] = [];

  constructor(
    private readonly network: FakeUdpNetwork,
    readonly localAddress: string,
    readonly localPort: number,
    private readonly bound: Bound,
    private readonly rxQueueLimit: number,
  ) {
    super();
  }

  /** null: unlimited. A number: send() takes at most that many more packets, then reports EAGAIN. */
  get sendBudget(): number | null {
    return this.writable.budget;
  }

  get pendingRecv(): number {
    return this.rx.length;
  }

  recv(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    checkHeadroom(batch, headroom);
    let n = 0;
    while (n < batch.capacity && this.rx.length > 0) {
      const d = this.rx.shift() as QueuedDatagram;
      if (!batch.putPacket(n, d.data, headroom)) {
        this.stats.recvDropsTooBig++;
        continue;
      }
      if (d.family === 4) batch.setIpv4Destination(n, d.ipv4, d.port);
      else batch.setIpv6Destination(n, d.ipv6 as Uint8Array, d.port);
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
      if (!this.writable.take()) break;
      const slot = slots[taken];
      const family = batch.family[slot];
      const len = batch.lengths[slot];
      if (!this.canSendTo(family) || len > MAX_UDP_PAYLOAD || batch.port[slot] === 0) {
        this.stats.sendDropsInvalid++;
        continue;
      }
      const to: QueuedDatagram =
        family === 4
          ? { family: 4, ipv4: batch.ipv4[slot], ipv6: null, port: batch.port[slot], data: EMPTY }
          : {
              family: 6,
              ipv4: 0,
              ipv6: batch.ipv6.subarray(slot * 16, slot * 16 + 16),
              port: batch.port[slot],
              data: EMPTY,
            };
      const start = batch.start(slot);
      this.network.deliver(this, to, addressText(to), batch.buffer.subarray(start, start + len));
      this.stats.packetsSent++;
    }
    return taken;
  }

  /** Lifts or changes the EAGAIN simulation; fires a pending onWritable handler when there is room. */
  setSendBudget(budget: number | null): void {
    this.writable.setBudget(budget);
  }

  override close(): void {
    if (this.isClosed) return;
    super.close();
    this.rx.length = 0;
    this.network.unbind(this);
  }

  /** @internal */
  enqueue(d: QueuedDatagram): void {
    if (this.isClosed) return;
    if (this.rx.length >= this.rxQueueLimit) {
      this.rxQueueDrops++;
      return;
    }
    this.rx.push(d);
    this.readable.poke();
  }

  /** @internal the source address this socket's datagrams carry towards `family`. */
  sourceFor(family: 4 | 6): { text: string; slot: Omit<QueuedDatagram, 'port' | 'data'> } {
    const wildcard = this.localAddress === '0.0.0.0' || this.localAddress === '::';
    const text = wildcard
      ? family === 4
        ? this.network.defaultSource4
        : this.network.defaultSource6
      : this.localAddress;
    const parsed = parseIpAddress(text);
    if (parsed === null) throw new NetdevError('DVS_ADDRESS_INVALID', `bad default source ${text}`);
    if (parsed.family === 4) return { text, slot: { family: 4, ipv4: parsed.ipv4, ipv6: null } };
    return { text, slot: { family: 6, ipv4: 0, ipv6: parsed.ipv6 } };
  }

  private canSendTo(family: number): boolean {
    if (family === 4) return this.bound.family === 4 || this.localAddress === '::';
    if (family === 6) return this.bound.family === 6;
    return false;
  }

  protected hasPendingRead(): boolean {
    return this.rx.length > 0;
  }

  protected describe(): string {
    return `socket ${this.localAddress}:${this.localPort}`;
  }
}

const EMPTY = Buffer.alloc(0);

function canonical(address: string): string {
  const parsed = parseIpAddress(address);
  if (parsed === null) return address;
  return parsed.family === 4 ? address : bytesText(parsed.ipv6);
}

function bytesText(bytes: Uint8Array): string {
  return slotAddressText(6, 0, bytes, 0);
}

function addressText(d: QueuedDatagram): string {
  return d.family === 4 ? slotAddressText(4, d.ipv4, EMPTY, 0) : bytesText(d.ipv6 as Uint8Array);
}

function bindKey(address: string, port: number): string {
  return `${address}|${port}`;
}
