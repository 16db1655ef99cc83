// @dvs/wire/testing: plain records for tests and benchmarks.
export { sampleFdbEntry, sampleNetwork } from './records.js';
