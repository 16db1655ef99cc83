// The data-path benchmark: dvs against a veth and the kernel's vxlan, same machine, same run.
export {
  runDatapathBench,
  writeResults,
  sampleLine,
  type DatapathBenchOptions,
  type DatapathBenchResult,
} from './run.js';
export {
  summarize,
  renderMarkdown,
  runRatios,
  spread,
  TARGETS,
  type DatapathSummary,
  summarizeWire,
  type RunRecord,
  type WireSummary,
} from './report.js';
export { sampleWire, pathEncap, DEFAULT_WIRE_PACKETS, type WireSample } from './wire-sample.js';
export { measurePath, type PathSample } from './measure.js';
export { buildPath, DEFAULT_PATHS, PATHS, type PathName, type BuiltPath } from './topologies.js';
export { ensureOvsInstalled, missingOvsPackages } from './ovs-install.js';
export { BENCH_PREFIX } from './bench-resources.js';
export {
  summarizeProfile,
  summarizeProfileFile,
  renderProfileSummary,
  type ProfileSummary,
} from './cpu-profile-summary.js';
export {
  lossBetween,
  readLossCounters,
  udpReceiveBufferErrors,
  type LossCounters,
  type UdpLoss,
} from './loss-accounting.js';
