// Tunnel health: BFD-like probes per peer VTEP over the real encapsulation.
export * from './probe-codec.js';
export * from './probe-transport.js';
export * from './health-clock.js';
export * from './health-options.js';
export { ProbeWindow, type RttStats } from './probe-window.js';
export * from './tunnel-session.js';
export * from './tunnel-monitor.js';
export * from './tunnel-status-record.js';
export * from './tunnel-metrics.js';
export * from './tunnels-show.js';
export * from './data-path-probe-transport.js';
export * from './agent-health.js';
export * from './status-publisher.js';
