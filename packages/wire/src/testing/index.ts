// @dvs/wire/testing: plain records and hand-built frames for tests and benchmarks.
export { sampleFdbEntry, sampleNetwork } from './records.js';
// TCP/UDP frames and TSO super-frames built by hand (independent of the library's own header code).
export {
  MAC_A,
  MAC_B,
  TYPICAL_OPTIONS,
  buildSuperFrame,
  buildTcpFrame,
  patternPayload,
  readFrame,
  referenceChecksum,
  referenceSum,
  timestampOptions,
  type FrameReading,
  type TcpFrameSpec,
} from './tcp-frames.js';
