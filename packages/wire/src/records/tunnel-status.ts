/**
 * `status/<host>` — written by the agent on its lease: the health of every
 * tunnel from this host to a peer VTEP, as its BFD-like probes see it.
 * External VTEPs are never probed and show as `unmonitored`.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { mapAt } from './field-reader.js';
import type { RecordError } from './record-error.js';
import { ENCAPS, type Encap } from '../frames/encap.js';
import { readVtep, type VtepRecord } from './vtep.js';

export const TUNNEL_STATUS_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };
export const MAX_TUNNEL_PEERS = 4096;

export type TunnelState = 'up' | 'down' | 'init' | 'unmonitored';
export const TUNNEL_STATES: readonly TunnelState[] = ['up', 'down', 'init', 'unmonitored'];

export interface TunnelRtt {
  lastMs: number;
  avgMs: number;
  p99Ms: number;
}

export interface PeerTunnelStatus {
  vtep: VtepRecord;
  /** Peer's host id; null for an external VTEP. */
  host: string | null;
  encap: Encap;
  state: TunnelState;
  /** Null until a probe has been answered. */
  rtt: TunnelRtt | null;
  /** Loss over the probe window, 0..100. */
  lossPct: number;
  /** Last state change, ms since the epoch. */
  lastChange: number;
  /** Why the last change happened (`probe timeout`, `peer restarted`, …). */
  reason: string;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
}

export interface TunnelStatusRecord {
  host: string;
  peers: PeerTunnelStatus[];
  updatedAt: number;
}

export function encodeTunnelStatus(record: TunnelStatusRecord): Buffer {
  return encodeRecord(TUNNEL_STATUS_RECORD_VERSION, record);
}

const COUNTER_MAX = Number.MAX_SAFE_INTEGER;

export function decodeTunnelStatus(buf: Uint8Array): TunnelStatusRecord | RecordError {
  return decodeRecord('tunnel-status', TUNNEL_STATUS_RECORD_VERSION, buf, (r) => ({
    host: r.hostId('host'),
    peers: r.array('peers', MAX_TUNNEL_PEERS, (v, path) => {
      const p = mapAt(v, path);
      let rtt: TunnelRtt | null = null;
      if (p.has('rtt')) {
        const t = p.map_('rtt');
        rtt = {
          lastMs: t.number('lastMs', 0, 1e7),
          avgMs: t.number('avgMs', 0, 1e7),
          p99Ms: t.number('p99Ms', 0, 1e7),
        };
      }
      return {
        vtep: readVtep(p.map_('vtep')),
        host: p.optionalHostId('host'),
        encap: p.oneOf('encap', ENCAPS),
        state: p.oneOf('state', TUNNEL_STATES),
        rtt,
        lossPct: p.number('lossPct', 0, 100),
        lastChange: p.time('lastChange'),
        reason: p.string('reason', 256),
        rxPackets: p.int('rxPackets', 0, COUNTER_MAX),
        txPackets: p.int('txPackets', 0, COUNTER_MAX),
        rxBytes: p.int('rxBytes', 0, COUNTER_MAX),
        txBytes: p.int('txBytes', 0, COUNTER_MAX),
      };
    }),
    updatedAt: r.time('updatedAt'),
  }));
}
