/**
 * Network create/update input → NetworkRecord (pure). Defaults and rules are
 * the ones docs/api.md lists.
 */
import {
  FLOOD_MODES,
  isHostId,
  isLabelText,
  LABEL_SYNTAX,
  MAX_ALLOWED_HOSTS,
  MAX_ALLOWED_LABELS,
  MAX_EXTERNAL_VTEPS,
  DEFAULT_ENCAP_PORTS,
  DEFAULT_OVERLAY_MTU,
  ENCAPS,
  MAX_OVERLAY_MTU,
  MIN_OVERLAY_MTU,
  NETWORK_NAME,
  isEncap,
  DATAPATH_CHOICES,
  isDatapathChoice,
  kernelMissing,
  FLOW_EXPORTED,
  networkFlowExport,
  type DatapathChoice,
  type NetworkFlowExport,
  type ExternalVtepRecord,
  type FloodMode,
  type NetworkRecord,
  type Encap,
} from '@dvs/wire';
import { ApiError } from './api-error.js';
import {
  addressValue,
  asBody,
  boolValue,
  intValue,
  rejectUnknown,
  required,
  descriptionValue,
  stringValue,
  udpPortValue,
  vniValue,
  type Body,
} from './input.js';

const CREATE_FIELDS = [
  'vni',
  'name',
  'encap',
  'mtu',
  'floodMode',
  'arpSuppression',
  'externalVteps',
  'allowedHosts',
  'allowedLabels',
  'datapath',
  'flowExport',
  'description',
];
const PATCH_FIELDS = CREATE_FIELDS;
const EXTERNAL_FIELDS = ['address', 'port', 'description'];
const FLOW_EXPORT_FIELDS = ['sflow', 'ipfix'];

export function encapValue(value: unknown): Encap {
  if (!isEncap(value)) {
    throw new ApiError(
      'DVS_ENCAP_UNKNOWN',
      `encap must be one of ${ENCAPS.join(', ')} (got ${JSON.stringify(value)})`,
      'encap',
    );
  }
  return value;
}

/**
 * A network's datapath: a provider or auto. Asking for the kernel where the
 * kernel cannot carry the network on any host (GRE-in-UDP: no FOU) is
 * refused; whether a host's VXLAN port can honour the rest is each host's
 * to say (datapath-choice.ts servedBy; `dvs networks show`).
 */
function datapathValue(value: unknown, encap: Encap): DatapathChoice {
  if (!isDatapathChoice(value))
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `datapath must be one of ${DATAPATH_CHOICES.join(', ')} (got ${JSON.stringify(value)})`,
      'datapath',
    );
  const missing = kernelMissing({ encap });
  if (value === 'kernel' && missing.length > 0)
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `datapath kernel cannot carry this network (${missing.join('; ')}): set datapath to auto or userspace, or encap to vxlan`,
      'datapath',
    );
  return value;
}

/**
 * `flowExport` from a body over `current`: each of `sflow` and `ipfix` left
 * out keeps its value. Both on is the default and stored as absent, so a
 * record stays as agents before 1.3 read it.
 */
function flowExportPatch(value: unknown, current: NetworkFlowExport): { flowExport?: NetworkFlowExport } {
  let next = current;
  if (value !== undefined) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new ApiError(
        'DVS_FIELD_INVALID',
        `flowExport must be an object like { "sflow": false, "ipfix": true } (got ${JSON.stringify(value)})`,
        'flowExport',
      );
    const body = value as Body;
    rejectUnknown(body, FLOW_EXPORT_FIELDS, 'flowExport.');
    next = {
      sflow: body.sflow === undefined ? current.sflow : boolValue(body.sflow, 'flowExport.sflow'),
      ipfix: body.ipfix === undefined ? current.ipfix : boolValue(body.ipfix, 'flowExport.ipfix'),
    };
  }
  return next.sflow && next.ipfix ? {} : { flowExport: { sflow: next.sflow, ipfix: next.ipfix } };
}

function floodModeValue(value: unknown): FloodMode {
  if (typeof value !== 'string' || !(FLOOD_MODES as readonly string[]).includes(value)) {
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `floodMode must be one of ${FLOOD_MODES.join(', ')} (got ${JSON.stringify(value)})`,
      'floodMode',
    );
  }
  return value as FloodMode;
}

export function externalVtepValue(value: unknown, encap: Encap, path: string): ExternalVtepRecord {
  const body = asBody(value);
  rejectUnknown(body, EXTERNAL_FIELDS, path === '' ? '' : `${path}.`);
  const p = path === '' ? '' : `${path}.`;
  return {
    address: addressValue(required(body, 'address', p), `${p}address`),
    port: body.port === undefined ? DEFAULT_ENCAP_PORTS[encap] : udpPortValue(body.port, `${p}port`),
    description:
      body.description === undefined
        ? ''
        : stringValue(body.description, `${p}description`, null, 256, 'a string (≤ 256)'),
  };
}

function externalVtepsValue(value: unknown, encap: Encap): ExternalVtepRecord[] {
  if (!Array.isArray(value) || value.length > MAX_EXTERNAL_VTEPS) {
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `externalVteps must be a list of at most ${MAX_EXTERNAL_VTEPS} VTEPs`,
      'externalVteps',
    );
  }
  const list = value.map((v, i) => externalVtepValue(v, encap, `externalVteps.${i}`));
  const seen = new Set<string>();
  list.forEach((v, i) => {
    const id = `${v.address}|${v.port}`;
    if (seen.has(id))
      throw new ApiError(
        'DVS_FIELD_INVALID',
        `externalVteps.${i} repeats ${v.address}:${v.port}`,
        `externalVteps.${i}`,
      );
    seen.add(id);
  });
  return list;
}

/** A list of distinct strings each passing `valid`; [] means "no restriction" and is stored as absent. */
function allowedList(
  value: unknown,
  field: 'allowedHosts' | 'allowedLabels',
  max: number,
  valid: (v: unknown) => boolean,
  hint: string,
): string[] | undefined {
  if (!Array.isArray(value) || value.length > max) {
    throw new ApiError('DVS_FIELD_INVALID', `${field} must be a list of at most ${max} ${hint}s`, field);
  }
  value.forEach((v, i) => {
    if (!valid(v))
      throw new ApiError(
        'DVS_FIELD_INVALID',
        `${field}.${i} must be a ${hint} (got ${JSON.stringify(v)})`,
        `${field}.${i}`,
      );
  });
  const list = [...new Set(value as string[])];
  return list.length === 0 ? undefined : list;
}

/** `allowedHosts` / `allowedLabels` from a body, each: absent → `current`, [] → no restriction. */
function membership(body: Body, current: Pick<NetworkRecord, 'allowedHosts' | 'allowedLabels'>) {
  const hosts =
    body.allowedHosts === undefined
      ? current.allowedHosts
      : allowedList(
          body.allowedHosts,
          'allowedHosts',
          MAX_ALLOWED_HOSTS,
          isHostId,
          'host id (letters, digits, ".", "_", "-")',
        );
  const labels =
    body.allowedLabels === undefined
      ? current.allowedLabels
      : allowedList(body.allowedLabels, 'allowedLabels', MAX_ALLOWED_LABELS, isLabelText, `label (${LABEL_SYNTAX})`);
  return { allowedHosts: hosts, allowedLabels: labels };
}

function withMembership(record: NetworkRecord, m: ReturnType<typeof membership>): NetworkRecord {
  const { allowedHosts: _h, allowedLabels: _l, ...rest } = record;
  return {
    ...rest,
    ...(m.allowedHosts !== undefined ? { allowedHosts: m.allowedHosts } : {}),
    ...(m.allowedLabels !== undefined ? { allowedLabels: m.allowedLabels } : {}),
  };
}

function nameValue(value: unknown): string {
  return stringValue(
    value,
    'name',
    NETWORK_NAME,
    64,
    'letters, digits, ".", "_", "-" (1..64, starting with a letter or digit)',
  );
}

function mtuValue(value: unknown): number {
  return intValue(value, 'mtu', MIN_OVERLAY_MTU, MAX_OVERLAY_MTU);
}

export function networkFromCreate(raw: unknown, now: number): NetworkRecord {
  const body = asBody(raw);
  rejectUnknown(body, CREATE_FIELDS);
  const vni = vniValue(required(body, 'vni'));
  const encap = body.encap === undefined ? 'vxlan' : encapValue(body.encap);
  const allowed = membership(body, {});
  return withMembership(
    {
      vni,
      name: nameValue(required(body, 'name')),
      encap,
      mtu: body.mtu === undefined ? DEFAULT_OVERLAY_MTU : mtuValue(body.mtu),
      floodMode: body.floodMode === undefined ? 'head-end' : floodModeValue(body.floodMode),
      arpSuppression: body.arpSuppression === undefined ? false : boolValue(body.arpSuppression, 'arpSuppression'),
      externalVteps: body.externalVteps === undefined ? [] : externalVtepsValue(body.externalVteps, encap),
      ...(body.datapath === undefined ? {} : { datapath: datapathValue(body.datapath, encap) }),
      ...flowExportPatch(body.flowExport, FLOW_EXPORTED),
      description: descriptionValue(body.description, ''),
      createdAt: now,
      updatedAt: now,
    },
    allowed,
  );
}

export function networkFromPatch(current: NetworkRecord, raw: unknown, now: number): NetworkRecord {
  const body: Body = asBody(raw);
  rejectUnknown(body, PATCH_FIELDS);
  if (body.vni !== undefined && body.vni !== current.vni) {
    throw new ApiError(
      'DVS_FIELD_INVALID',
      `vni cannot change (network ${current.vni}); create a new network instead`,
      'vni',
    );
  }
  const encap = body.encap === undefined ? current.encap : encapValue(body.encap);
  const allowed = membership(body, current);
  const { flowExport: _flowExport, ...kept } = current;
  return withMembership(
    {
      ...kept,
      name: body.name === undefined ? current.name : nameValue(body.name),
      encap,
      mtu: body.mtu === undefined ? current.mtu : mtuValue(body.mtu),
      floodMode: body.floodMode === undefined ? current.floodMode : floodModeValue(body.floodMode),
      arpSuppression:
        body.arpSuppression === undefined ? current.arpSuppression : boolValue(body.arpSuppression, 'arpSuppression'),
      externalVteps:
        body.externalVteps === undefined ? current.externalVteps : externalVtepsValue(body.externalVteps, encap),
      ...datapathPatch(body.datapath ?? current.datapath, encap),
      ...flowExportPatch(body.flowExport, networkFlowExport(current)),
      description: descriptionValue(body.description, current.description),
      updatedAt: now,
    },
    allowed,
  );
}

/** The datapath after a patch, checked against the (maybe new) encap: an encap change cannot leave `kernel` on GRE-in-UDP. */
function datapathPatch(value: unknown, encap: Encap): { datapath?: DatapathChoice } {
  return value === undefined ? {} : { datapath: datapathValue(value, encap) };
}
