/**
 * A private etcd cluster of several members on 127.0.0.1 (3 by default) for
 * tests and benchmarks: each member an EtcdServer with its own ports and
 * data directory, started together (a new cluster answers only once a quorum
 * runs). Faults by member: `member(i).kill()`, `.halt()`, `.restart()`,
 * `.pause()`; `leaderIndex()` says which member leads.
 *
 *   const cluster = await EtcdCluster.start({ members: 3 });
 *   new Etcd3({ hosts: cluster.endpoints });
 *   await cluster.stop();
 */
import { Etcd3 } from 'etcd3';
import { EtcdServer, EtcdServerError, freePort, type EtcdServerOptions } from './etcd-server.js';

export interface EtcdClusterOptions extends Omit<EtcdServerOptions, 'member' | 'tls'> {
  /** Members (default 3). */
  members?: number;
}

export class EtcdCluster {
  private constructor(readonly members: readonly EtcdServer[]) {}

  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const count = options.members ?? 3;
    const ports: { client: number; peer: number }[] = [];
    for (let i = 0; i < count; i++) ports.push({ client: await freePort(), peer: await freePort() });
    const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
    const started = await Promise.allSettled(
      ports.map((p, i) =>
        EtcdServer.start({
          ...options,
          member: { name: `m${i}`, clientPort: p.client, peerPort: p.peer, initialCluster },
        }),
      ),
    );
    const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    const cluster = new EtcdCluster(servers);
    try {
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      await cluster.waitHealthy(options.startTimeoutMs ?? 30_000, options.signal);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Every member's client URL. */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  member(index: number): EtcdServer {
    const m = this.members[index];
    if (m === undefined) throw new EtcdServerError('DVS_ETCD_NOT_RUNNING', `no member ${index}`);
    return m;
  }

  /** Waits until every running member answers /health (a quorum elected a leader). */
  async waitHealthy(timeoutMs = 30_000, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const running = this.members.filter((m) => m.pid !== null);
      const health = await Promise.all(running.map((m) => m.healthy()));
      if (running.length > 0 && health.every(Boolean)) return;
      if (Date.now() > deadline) {
        throw new EtcdServerError(
          'DVS_ETCD_START_FAILED',
          `etcd cluster not healthy within ${timeoutMs} ms:\n${this.members.map((m) => m.recentOutput()).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Index of the member that leads the cluster now (asked of the running members), or null. */
  async leaderIndex(): Promise<number | null> {
    const client = new Etcd3({ hosts: this.members.filter((m) => m.pid !== null).map((m) => m.endpoint) });
    try {
      const status = await client.maintenance.status();
      const leader = String(status.leader);
      for (let i = 0; i < this.members.length; i++) {
        const m = this.members[i]!;
        if (m.pid === null) continue;
        const one = new Etcd3({ hosts: m.endpoint });
        try {
          if (String((await one.maintenance.status()).header.member_id) === leader) return i;
        } finally {
          one.close();
        }
      }
      return null;
    } finally {
      client.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
