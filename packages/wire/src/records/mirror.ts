/**
 * `mirrors/<name>` — written by the controller (HTTP API): a port mirror.
 * Its sources are ports (host + port name) and/or VNIs; its output is one
 * port on one host. Copies from a source on another host than the output
 * travel inside the mirror VNI `vni` (RSPAN), which must not be a network.
 *
 * The rules every form of a mirror obeys (API, agent config, data path) are
 * here once: mirrorConfigProblem().
 */
import { decodeRecord, encodeRecord, type SchemaVersion } from './codec.js';
import { FieldInvalid, mapAt, type FieldReader } from './field-reader.js';
import type { RecordError } from './record-error.js';
import { ENCAPS, type Encap } from '../frames/encap.js';
import { isValidVni } from '../frames/vni.js';
import { NETWORK_NAME } from './network.js';

export const MIRROR_RECORD_VERSION: SchemaVersion = { major: 1, minor: 0 };

export const MIRROR_DIRECTIONS = ['ingress', 'egress', 'both'] as const;
export type MirrorDirection = (typeof MIRROR_DIRECTIONS)[number];

/** Largest 1-in-N sampling rate. */
export const MAX_MIRROR_SAMPLE_EVERY = 1_000_000;
export const MAX_MIRROR_SOURCES = 256;
/** Mirror names follow network names. */
export const MIRROR_NAME = NETWORK_NAME;

export interface MirrorPortRef {
  host: string;
  port: string;
}

export interface MirrorRecord {
  name: string;
  sourcePorts: MirrorPortRef[];
  sourceVnis: number[];
  direction: MirrorDirection;
  /** MAC filters as text (aa:bb:cc:dd:ee:ff); VLAN filter 1..4094. */
  srcMac?: string;
  dstMac?: string;
  vlan?: number;
  /** 1-in-N sampling; 1: every frame. */
  sampleEvery: number;
  output: MirrorPortRef;
  /** RSPAN: the mirror VNI the copies cross the overlay in, and its encap; absent: local (SPAN) only. */
  vni?: number;
  encap?: Encap;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export function encodeMirror(record: MirrorRecord): Buffer {
  return encodeRecord(MIRROR_RECORD_VERSION, record);
}

export function decodeMirror(buf: Uint8Array): MirrorRecord | RecordError {
  return decodeRecord('mirror', MIRROR_RECORD_VERSION, buf, (r) => {
    const name = r.string('name', 64);
    if (!MIRROR_NAME.test(name)) throw new FieldInvalid('name', 'expected letters, digits, ".", "_", "-" (1..64)');
    const ref = (v: unknown, path: string): MirrorPortRef => portRefOf(mapAt(v, path));
    const record: MirrorRecord = {
      name,
      sourcePorts: r.array('sourcePorts', MAX_MIRROR_SOURCES, ref),
      sourceVnis: r.array('sourceVnis', MAX_MIRROR_SOURCES, (v, path) => {
        if (!isValidVni(v)) throw new FieldInvalid(path, 'expected a VNI 1..16777215');
        return v as number;
      }),
      direction: r.oneOf('direction', MIRROR_DIRECTIONS),
      sampleEvery: r.int('sampleEvery', 1, MAX_MIRROR_SAMPLE_EVERY),
      output: portRefOf(r.map_('output')),
      description: r.string('description', 1024),
      createdAt: r.time('createdAt'),
      updatedAt: r.time('updatedAt'),
    };
    if (r.has('srcMac')) record.srcMac = r.mac('srcMac');
    if (r.has('dstMac')) record.dstMac = r.mac('dstMac');
    if (r.has('vlan')) record.vlan = r.int('vlan', 1, 4094);
    if (r.has('vni')) record.vni = r.vni('vni');
    if (r.has('encap')) record.encap = r.oneOf('encap', ENCAPS);
    return record;
  });
}

function portRefOf(m: FieldReader): MirrorPortRef {
  return { host: m.hostId('host'), port: m.portName('port') };
}

/** A mirror in the shape the rules need: ports as keys (a name, or host/name), the output key, the mirror VNI. */
export interface MirrorShape {
  name: string;
  sources: readonly string[];
  sourceVnis: readonly number[];
  direction: string;
  sampleEvery: number;
  output: string | null;
  vni: number | null;
}

export interface MirrorProblem {
  /** The field at fault, as `mirrors[k].field` (or `sinks`). */
  field: string;
  message: string;
}

/**
 * The rules of a set of mirrors (and the RSPAN analyser ports `sinkPorts`),
 * or null when they hold: a valid name, unique; a direction; at least one
 * source; a sampling rate of at least 1; a valid mirror VNI; and no port
 * that is an output (or a sink) is also a source — its own mirror's or
 * another's — for copies would loop back into a mirror.
 */
export function mirrorConfigProblem(
  mirrors: readonly MirrorShape[],
  sinkPorts: readonly string[],
): MirrorProblem | null {
  const names = new Set<string>();
  const sources = new Map<string, string>();
  for (const m of mirrors) for (const s of m.sources) sources.set(s, m.name);
  for (let k = 0; k < mirrors.length; k++) {
    const m = mirrors[k];
    const at = (field: string): string => `mirrors[${k}].${field}`;
    if (!MIRROR_NAME.test(m.name))
      return { field: at('name'), message: `expected letters, digits, ".", "_", "-" (1..64), got "${m.name}"` };
    if (names.has(m.name)) return { field: at('name'), message: `mirror ${m.name} is named twice` };
    names.add(m.name);
    if (!(MIRROR_DIRECTIONS as readonly string[]).includes(m.direction))
      return { field: at('direction'), message: `expected ingress, egress or both, got "${m.direction}"` };
    if (m.sources.length + m.sourceVnis.length === 0)
      return { field: at('sources'), message: 'a mirror needs at least one source port or VNI' };
    const badVni = m.sourceVnis.find((v) => !isValidVni(v));
    if (badVni !== undefined) return { field: at('sourceVnis'), message: `must be 1..16777215, got ${badVni}` };
    if (!Number.isInteger(m.sampleEvery) || m.sampleEvery < 1 || m.sampleEvery > MAX_MIRROR_SAMPLE_EVERY)
      return {
        field: at('sampleEvery'),
        message: `a 1-in-N sampling rate must be 1..${MAX_MIRROR_SAMPLE_EVERY} (1: every frame), got ${m.sampleEvery}`,
      };
    if (m.vni !== null && !isValidVni(m.vni))
      return { field: at('vni'), message: `a mirror VNI must be 1..16777215, got ${m.vni}` };
    if (m.output !== null && sources.has(m.output)) {
      const of = sources.get(m.output) === m.name ? 'this mirror' : `mirror ${sources.get(m.output)}`;
      return {
        field: at('output'),
        message: `port ${m.output} is a source of ${of}: an output port only receives copies (pick another port)`,
      };
    }
  }
  for (const p of sinkPorts) {
    if (sources.has(p))
      return {
        field: 'sinks',
        message: `port ${p} receives RSPAN copies and is a source of mirror ${sources.get(p)}: pick another port`,
      };
  }
  return null;
}
