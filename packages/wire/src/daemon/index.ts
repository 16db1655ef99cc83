export * from './crash-handlers.js';
