// The datapath choice: which provider (kernel or userspace) serves a network on a host, and why.
export * from './datapath-choice.js';
