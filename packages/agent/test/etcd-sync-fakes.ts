/**
 * Fakes for control-plane tests: a ControlSurface that keeps the tables it
 * is given (so tests compare what two agents were told), a MAC event source,
 * and a logger that captures lines.
 */
import { EventEmitter } from 'node:events';
import type {
  ApplyResult,
  ControlSurface,
  DataPathEvents,
  TableChange,
  Vtep,
} from '../src/datapath/control-surface.js';
import type { SyncLogFields, SyncLogger } from '../src/etcd-sync/index.js';

export class FakeSurface implements ControlSurface {
  /** MACs local to this fake host (`${vni}/${hex}`): an fdb:set for one of them displaces it with a mac:gone, as DataPath does. */
  readonly local = new Set<string>();
  events: FakeMacEvents | null = null;
  readonly networks = new Set<number>();
  readonly fdb = new Map<string, { vtep: string; seq: number; static: boolean }>();
  readonly flood = new Map<number, string[]>();
  readonly peers = new Map<number, string[]>();
  readonly applied: TableChange[][] = [];

  apply(changes: readonly TableChange[]): ApplyResult {
    this.applied.push([...changes]);
    const id = (v: Vtep): string => `${v.address}:${v.port}`;
    for (const c of changes) {
      switch (c.kind) {
        case 'network:set':
          this.networks.add(c.network.vni);
          break;
        case 'network:del':
          this.networks.delete(c.vni);
          for (const key of [...this.fdb.keys()]) if (key.startsWith(`${c.vni}/`)) this.fdb.delete(key);
          this.flood.delete(c.vni);
          this.peers.delete(c.vni);
          break;
        case 'fdb:set': {
          if (!this.networks.has(c.vni)) throw new Error(`fdb:set before network ${c.vni}`);
          const key = `${c.vni}/${c.mac.toString(16).padStart(12, '0')}`;
          this.fdb.set(key, { vtep: id(c.vtep), seq: c.seq, static: c.static === true });
          if (this.local.delete(key)) this.events?.emit('mac:gone', { vni: c.vni, mac: c.mac, port: 'tap0' });
          break;
        }
        case 'fdb:del':
          this.fdb.delete(`${c.vni}/${c.mac.toString(16).padStart(12, '0')}`);
          break;
        case 'flood:set':
          this.flood.set(c.vni, c.vteps.map(id));
          break;
        case 'peers:set':
          this.peers.set(c.vni, c.vteps.map(id));
          break;
      }
    }
    return { applied: changes.length, rejected: [] };
  }

  /** Location of a MAC (hex without colons) as this agent was told, or undefined. */
  where(vni: number, macHex: string): { vtep: string; seq: number; static: boolean } | undefined {
    return this.fdb.get(`${vni}/${macHex}`);
  }
}

export type MacEventArgs = { [K in keyof DataPathEvents]: [DataPathEvents[K]] };

export class FakeMacEvents extends EventEmitter<MacEventArgs> {}

export class CapturingLogger implements SyncLogger {
  readonly lines: { level: string; msg: string; fields: SyncLogFields }[] = [];
  debug(msg: string, fields: SyncLogFields = {}): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields: SyncLogFields = {}): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields: SyncLogFields = {}): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields: SyncLogFields = {}): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  count(level: string, pattern: RegExp): number {
    return this.lines.filter((l) => l.level === level && pattern.test(l.msg)).length;
  }
}
