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
