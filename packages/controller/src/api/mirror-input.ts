/**
 * Validation of a mirror in the API (pure): the body of POST /v1/mirrors
 * becomes a MirrorRecord or an ApiError naming the field. The rules every
 * form of a mirror obeys (an output that is a source, a sampling rate of 0,
 * …) are wire's mirrorConfigProblem; the API adds what only it can see: the
 * mirror VNI must not be a network, and copies that cross hosts need one.
 */
import {
  isHostId,
  isPortName,
  MAX_MIRROR_SAMPLE_EVERY,
  MAX_MIRROR_SOURCES,
  MIRROR_DIRECTIONS,
  MIRROR_NAME,
  mirrorConfigProblem,
  type MirrorPortRef,
  type MirrorRecord,
} from '@dvs/wire';
import { ApiError } from './api-error.js';
import { encapValue } from './network-input.js';
import {
  asBody,
  intValue,
  macValue,
  rejectUnknown,
  required,
  descriptionValue,
  stringValue,
  vniValue,
} from './input.js';

const CREATE_FIELDS = [
  'name',
  'sourcePorts',
  'sourceVnis',
  'direction',
  'srcMac',
  'dstMac',
  'vlan',
  'sampleEvery',
  'output',
  'vni',
  'encap',
  'description',
] as const;

function portRef(value: unknown, field: string): MirrorPortRef {
  const body = asBody(value);
  rejectUnknown(body, ['host', 'port'], `${field}.`);
  const host = required(body, 'host', `${field}.`);
  const port = required(body, 'port', `${field}.`);
  if (!isHostId(host)) throw new ApiError('DVS_FIELD_INVALID', `${field}.host must be a host id`, `${field}.host`);
  if (!isPortName(port)) throw new ApiError('DVS_FIELD_INVALID', `${field}.port must be a port name`, `${field}.port`);
  return { host, port };
}

function list<T>(value: unknown, field: string, item: (v: unknown, at: string) => T): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_MIRROR_SOURCES)
    throw new ApiError('DVS_FIELD_INVALID', `${field} must be a list of at most ${MAX_MIRROR_SOURCES}`, field);
  return value.map((v, i) => item(v, `${field}.${i}`));
}

const refKey = (r: MirrorPortRef): string => `${r.host}/${r.port}`;

export function mirrorFromCreate(raw: unknown, now: number): MirrorRecord {
  const body = asBody(raw);
  rejectUnknown(body, CREATE_FIELDS);
  const record: MirrorRecord = {
    name: stringValue(required(body, 'name'), 'name', MIRROR_NAME, 64, 'letters, digits, ".", "_", "-" (1..64)'),
    sourcePorts: list(body.sourcePorts, 'sourcePorts', portRef),
    sourceVnis: list(body.sourceVnis, 'sourceVnis', (v, at) => vniValue(v, at)),
    direction:
      body.direction === undefined
        ? 'both'
        : (stringValue(
            body.direction,
            'direction',
            new RegExp(`^(${MIRROR_DIRECTIONS.join('|')})$`),
            16,
            MIRROR_DIRECTIONS.join(', '),
          ) as MirrorRecord['direction']),
    sampleEvery:
      body.sampleEvery === undefined ? 1 : intValue(body.sampleEvery, 'sampleEvery', 1, MAX_MIRROR_SAMPLE_EVERY),
    output: portRef(required(body, 'output'), 'output'),
    description: descriptionValue(body.description, ''),
    createdAt: now,
    updatedAt: now,
  };
  if (body.srcMac !== undefined) record.srcMac = macValue(body.srcMac, 'srcMac');
  if (body.dstMac !== undefined) record.dstMac = macValue(body.dstMac, 'dstMac');
  if (body.vlan !== undefined) record.vlan = intValue(body.vlan, 'vlan', 1, 4094);
  if (body.vni !== undefined) record.vni = vniValue(body.vni, 'vni');
  if (body.encap !== undefined) record.encap = encapValue(body.encap);
  return record;
}

/**
 * Throws ApiError naming the field when `record` cannot join `others` (the
 * mirrors already there) given the networks' VNIs: wire's rules over the
 * whole set, a mirror VNI that is a network or another mirror's, and a
 * mirror whose copies would cross hosts without a mirror VNI.
 */
export function checkMirrorAgainst(
  record: MirrorRecord,
  others: readonly MirrorRecord[],
  networkVnis: ReadonlySet<number>,
): void {
  const all = [...others, record];
  const problem = mirrorConfigProblem(
    all.map((m) => ({
      name: m.name,
      sources: m.sourcePorts.map(refKey),
      sourceVnis: m.sourceVnis,
      direction: m.direction,
      sampleEvery: m.sampleEvery,
      output: refKey(m.output),
      vni: m.vni ?? null,
    })),
    [],
  );
  if (problem !== null) {
    // Report the field of the new mirror (the set held before it came).
    const field = problem.field.replace(/^mirrors\[\d+\]\./, '');
    throw new ApiError('DVS_FIELD_INVALID', `${field}: ${problem.message}`, field);
  }
  if (record.vni !== undefined) {
    if (networkVnis.has(record.vni))
      throw new ApiError(
        'DVS_FIELD_INVALID',
        `vni: ${record.vni} is a network; a mirror VNI carries only copies (pick an unused VNI)`,
        'vni',
      );
    const taken = others.find((m) => m.vni === record.vni);
    if (taken !== undefined)
      throw new ApiError('DVS_FIELD_INVALID', `vni: ${record.vni} is already the mirror VNI of ${taken.name}`, 'vni');
  }
  const crosses = record.sourceVnis.length > 0 || record.sourcePorts.some((p) => p.host !== record.output.host);
  if (crosses && record.vni === undefined)
    throw new ApiError(
      'DVS_FIELD_MISSING',
      'vni: copies from another host than the output cross the overlay in a mirror VNI: give one that is no network',
      'vni',
    );
}
