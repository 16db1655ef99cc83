/**
 * Records and keys use the one VNI range of the wire package (1..16777215).
 * Re-exported under local names so the record code reads the same as before.
 */
export { isValidVni as isRecordVni, MIN_VNI as RECORD_MIN_VNI, MAX_VNI as RECORD_MAX_VNI } from '../frames/vni.js';
