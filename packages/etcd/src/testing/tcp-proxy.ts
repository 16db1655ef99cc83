/**
 * A TCP proxy in front of etcd for fault injection, as etcd3's own tests do:
 *
 *  - `cut()` drops every connection and refuses new ones (a network
 *    partition of just the clients behind this proxy), `restore()` lets them
 *    reconnect;
 *  - `pause()` keeps every connection open but moves no byte either way, and
 *    holds new connections the same way (a hung link: the client's calls and
 *    keepalives time out instead of failing at once), `resume()` lets the
 *    bytes flow again on the same connections.
 *
 * etcd itself keeps running, so other clients can change and compact the
 * keyspace meanwhile. `tcp-proxy-main.ts` runs one as a process (inside a
 * network namespace, say), driven by signals.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private blocked = false;
  private paused = false;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Listens on `listenHost` (default 127.0.0.1; port `listenPort`, default any) and forwards to `targetHost:targetPort`. */
  static async start(
    targetPort: number,
    targetHost = '127.0.0.1',
    options: { listenHost?: string; listenPort?: number } = {},
  ): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => {
      if (proxy === null || proxy.blocked) {
        client.destroy();
        return;
      }
      proxy.connectPair(client, targetPort, targetHost);
    });
    const listenHost = options.listenHost ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, listenHost, () => resolve());
    });
    const address = server.address();
    proxy = new TcpProxy(server, listenHost, typeof address === 'object' && address !== null ? address.port : 0);
    return proxy;
  }

  /** `http://<listen host>:<port>`: give this to the clients under test. */
  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  private connectPair(client: Socket, targetPort: number, targetHost: string): void {
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream };
    this.pairs.add(pair);
    if (!this.paused) this.flow(pair);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }

  private flow(pair: Pair): void {
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
  }

  private hold(pair: Pair): void {
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    pair.client.pause();
    pair.upstream.pause();
  }

  cut(): void {
    this.blocked = true;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
  }

  restore(): void {
    this.blocked = false;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const pair of this.pairs) this.hold(pair);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const pair of this.pairs) this.flow(pair);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
