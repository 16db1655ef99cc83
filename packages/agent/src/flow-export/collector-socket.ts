/**
 * The UDP sender of one exporter: a socket per address family, datagrams to
 * every collector. Off the frame loop. An unreachable collector costs a
 * counter and nothing else: send errors (ICMP unreachable reported back,
 * no route) are counted with the last message, never thrown.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { ResolvedCollector } from './flow-export-config.js';

export interface SendCounters {
  datagrams: number;
  bytes: number;
  sendErrors: number;
  lastError: string | null;
}

export class CollectorSocket {
  readonly counters: SendCounters = { datagrams: 0, bytes: 0, sendErrors: 0, lastError: null };
  private readonly sockets = new Map<4 | 6, Socket>();

  constructor(readonly collectors: readonly ResolvedCollector[]) {}

  /** Sends a copy of `buf[0..length)` to every collector. */
  send(buf: Buffer, length: number): void {
    for (const c of this.collectors) {
      const datagram = Buffer.from(buf.subarray(0, length));
      this.socketFor(c.family).send(datagram, c.port, c.address, (err) => {
        if (err) return this.failed(err);
        this.counters.datagrams++;
        this.counters.bytes += length;
      });
    }
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private failed(err: Error): void {
    this.counters.sendErrors++;
    this.counters.lastError = `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim();
  }

  private socketFor(family: 4 | 6): Socket {
    let s = this.sockets.get(family);
    if (s === undefined) {
      s = createSocket(family === 6 ? 'udp6' : 'udp4');
      // An ICMP port unreachable comes back as an 'error' on a later send: counted, not thrown.
      s.on('error', (err) => this.failed(err));
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }
}
