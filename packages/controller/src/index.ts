// @dvs/controller public surface.
export { Controller, ControllerError, type ControllerOptions, type ControllerEvents } from './controller.js';
export { ClusterView } from './view/cluster-view.js';
export { ApiError, type ApiErrorCode } from './api/api-error.js';
export { createJsonLogger, silentLogger, type Logger, type LogLevel } from './log.js';
export * from './tables/index.js';
