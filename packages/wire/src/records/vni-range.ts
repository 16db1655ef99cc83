/**
 * VNI range check for records and keys. Kept local (not re-exported) so it
 * never collides with the frames module's own VNI constants.
 * TODO(wire): switch to isValidVni/MIN_VNI/MAX_VNI from ../frames/vni.js once committed.
 */
export const RECORD_MIN_VNI = 1;
export const RECORD_MAX_VNI = 0xffffff;

export function isRecordVni(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= RECORD_MIN_VNI && value <= RECORD_MAX_VNI;
}
