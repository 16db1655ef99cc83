/**
 * Simulated agents for benchmarks: N etcd clients, each watching `fdb/` and
 * decoding every entry, as an agent's table watch does. `waitFor(mac, host)`
 * resolves when every watcher has seen the MAC at that host.
 */
import { decodeFdbEntry, RecordError, type KeyLayout } from '@dvs/wire';
import { Etcd3, type Watcher } from 'etcd3';

interface Pending {
  mac: string;
  host: string | null;
  seen: Set<number>;
  resolve: (ms: number) => void;
  startedAt: number;
}

export class FdbWatchers {
  private readonly clients: Etcd3[] = [];
  private readonly watchers: Watcher[] = [];
  private pending: Pending[] = [];

  private constructor(readonly count: number) {}

  static async start(endpoint: string, keys: KeyLayout, count: number): Promise<FdbWatchers> {
    const w = new FdbWatchers(count);
    for (let i = 0; i < count; i++) {
      const client = new Etcd3({ hosts: endpoint });
      w.clients.push(client);
      const watcher = await client.watch().prefix(keys.section('fdb')).create();
      watcher.on('put', (kv) => w.onPut(i, kv.value));
      w.watchers.push(watcher);
    }
    return w;
  }

  private onPut(index: number, value: Buffer): void {
    const entry = decodeFdbEntry(value);
    if (entry instanceof RecordError) return;
    for (const p of this.pending) {
      if (p.mac !== entry.mac || p.host !== entry.host) continue;
      p.seen.add(index);
      if (p.seen.size === this.count) p.resolve(performance.now() - p.startedAt);
    }
    this.pending = this.pending.filter((p) => p.seen.size < this.count);
  }

  /** Milliseconds from now until all watchers saw `mac` at `host`. Register before causing the change. */
  expect(mac: string, host: string | null): Promise<number> {
    return new Promise((resolve) =>
      this.pending.push({ mac, host, seen: new Set(), resolve, startedAt: performance.now() }),
    );
  }

  async close(): Promise<void> {
    for (const w of this.watchers) await w.cancel().catch(() => undefined);
    for (const c of this.clients) c.close();
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
