// @dvs/lab public surface: the namespace lab, its CLI program, migration and reports.
export * from './errors.js';
export * from './lab.js';
export * from './lab-spec.js';
export * from './lab-state.js';
export * from './lab-layout.js';
export * from './ping-matrix.js';
export { AdminClient, AdminCommandError } from './admin-client.js';
export { ControllerClient } from './controller-client.js';
