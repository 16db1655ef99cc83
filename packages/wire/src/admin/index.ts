export * from './protocol.js';
export * from './port-plug.js';
export * from './replies.js';
