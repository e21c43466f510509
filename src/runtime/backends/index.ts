/**
 * The built-in backends, for users who configure one themselves (e.g. threads) and register it
 * with `ModelManager.registerBackend`. Their engines are imported on first load, not here.
 */
export { LlamaCppBackend, llamaCppGpu, type LlamaCppBackendOptions } from './llama-cpp.js';
export { TransformersBackend, type TransformersBackendOptions } from './transformers.js';
export { importBackendPackage } from './import-package.js';
