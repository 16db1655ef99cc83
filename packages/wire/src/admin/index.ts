export * from './protocol.js';
export * from './port-plug.js';
export * from './replies.js';
export * from './port-security.js';
