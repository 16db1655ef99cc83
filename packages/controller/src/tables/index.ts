export {
  computeTables,
  compareClaims,
  fdbKeyOf,
  sameFdbEntry,
  sameFloodList,
  type TableInputs,
  type TableOutputs,
  type MacMove,
} from './compute-tables.js';
export { DEFAULT_DAMPENING, type DampeningOptions, type MacMobility, type MobilityState } from './mobility.js';
export {
  admit,
  acceptedSeq,
  IGNORE_REASONS,
  type Admission,
  type AdmissionInputs,
  type IgnoredRecord,
  type IgnoreReason,
  type LeasedRecord,
  type LiveHost,
} from './admission.js';
