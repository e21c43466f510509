/**
 * Model Manager's public API: the only import path the CLI, the server and users need.
 */
export * from './errors.js';
export * from './config.js';
export * from './registry/index.js';
export * from './units.js';
export * from './formats/index.js';
export * from './server/index.js';
