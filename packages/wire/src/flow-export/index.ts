// Flow export formats: sFlow v5 datagrams and IPFIX (RFC 7011) messages.
export * from './export-writer.js';
export * from './ipfix.js';
export * from './sflow.js';
