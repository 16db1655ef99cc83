// @dvs/lab public surface: the namespace lab, its CLI program, migration and reports.
export * from './errors.js';
export * from './lab.js';
export * from './lab-spec.js';
export * from './lab-state.js';
export * from './lab-layout.js';
export * from './ping-matrix.js';
export { ControllerClient } from '@dvs/cli';
export { labControllerClient, type LabApiCredentials } from './api-credentials.js';
export * from './continuous-ping.js';
export * from './migration.js';
export * from './migration-report.js';
export * from './mac-location.js';
export { createLabCommand, DEFAULT_LAB_ID } from './lab-cli.js';
export { labStatus, renderLabStatus, type LabStatus } from './lab-status.js';
export { labEndpoints, type LabEndpoints } from './lab-endpoints.js';
export { teardownOnSignal } from './signal-teardown.js';
export { addAgentPort, removeAgentPort } from './agent-host.js';
export * from './qemu/index.js';
