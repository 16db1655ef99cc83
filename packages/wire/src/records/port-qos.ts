/**
 * `limits/<host>/<port>` — written by the controller (HTTP API): the QoS
 * policers of one port (ingress policing, egress limit), in the way of Open
 * vSwitch's `ingress_policing_rate`/`burst`. The agent of `host` puts them
 * on the port (datapath/token-bucket.ts) whenever its device is attached.
 * The section sits inside the agents' read range `[fdb/, networks0)`.
 *
 * The policer rule (rate and burst limits) is here once: the API, the agent's
 * config, its admin socket and the data path all check policerSpecProblem.
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import type { FieldReader } from './field-reader.js';
import type { RecordError } from './record-error.js';

export const PORT_QOS_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

/** Largest rate: 100 Gbit/s. */
export const MAX_RATE_KBPS = 100_000_000;
/** Smallest burst: one 9000-byte jumbo frame plus headers (9216 bytes). */
export const MIN_BURST_KB = 74;
export const MAX_BURST_KB = 100_000_000;

export interface PolicerSpec {
  /** kbit/s, 1..MAX_RATE_KBPS. */
  rateKbps: number;
  /** kbit, MIN_BURST_KB..MAX_BURST_KB; default max(rate / 10, MIN_BURST_KB). */
  burstKb: number;
}

/** A port's policers: frames from it (ingress) and to it (egress); null: none. */
export interface PortQos {
  ingress: PolicerSpec | null;
  egress: PolicerSpec | null;
}

/** The default burst for a rate: a tenth of a second's worth, at least MIN_BURST_KB. */
export function defaultBurstKb(rateKbps: number): number {
  return Math.max(MIN_BURST_KB, Math.ceil(rateKbps / 10));
}

/** Why `spec` is not a valid policer (naming the field), or null. */
export function policerSpecProblem(spec: PolicerSpec): string | null {
  if (!Number.isInteger(spec.rateKbps) || spec.rateKbps < 1 || spec.rateKbps > MAX_RATE_KBPS)
    return `rate must be an integer in 1..${MAX_RATE_KBPS} kbit/s (to stop policing, switch it off), got ${spec.rateKbps}`;
  if (!Number.isInteger(spec.burstKb) || spec.burstKb < MIN_BURST_KB || spec.burstKb > MAX_BURST_KB)
    return `burst must be an integer in ${MIN_BURST_KB}..${MAX_BURST_KB} kbit (at least one jumbo frame), got ${spec.burstKb}`;
  return null;
}

export interface PortQosRecord extends PortQos {
  host: string;
  port: string;
  updatedAt: number;
}

export function encodePortQos(record: PortQosRecord): Buffer {
  // A direction without a policer is left out (encodeRecord drops undefined).
  return encodeRecord(PORT_QOS_RECORD_VERSION, {
    ...record,
    ingress: record.ingress ?? undefined,
    egress: record.egress ?? undefined,
  });
}

export function decodePortQos(buf: Uint8Array): PortQosRecord | RecordError {
  return decodeRecord('port-qos', PORT_QOS_RECORD_VERSION, buf, (r) => {
    const policer = (key: string): PolicerSpec | null => {
      if (!r.has(key)) return null;
      const p: FieldReader = r.map_(key);
      return { rateKbps: p.int('rateKbps', 1, MAX_RATE_KBPS), burstKb: p.int('burstKb', MIN_BURST_KB, MAX_BURST_KB) };
    };
    return {
      host: r.hostId('host'),
      port: r.portName('port'),
      ingress: policer('ingress'),
      egress: policer('egress'),
      updatedAt: r.time('updatedAt'),
    };
  });
}
