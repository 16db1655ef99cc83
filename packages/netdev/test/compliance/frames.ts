// The compliance suites' test frames live with the TAP holder in the testing entry.
export * from '../../src/testing/test-frames.js';
