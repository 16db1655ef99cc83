// The controller HTTP API contract: request and answer types, error codes, roles, audit records.
export * from './controller-api.js';
export * from './audit.js';
