// Flow export formats: sFlow v5 datagrams and IPFIX (RFC 7011) messages, and the settings rules.
export * from './export-writer.js';
export * from './ipfix.js';
export * from './sflow.js';
export * from './flow-settings.js';
