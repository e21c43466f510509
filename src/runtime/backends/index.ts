/**
 * The built-in backends, for users who configure one themselves (e.g. threads) and register it
 * with `ModelManager.registerBackend`. Their engines are imported on first load, not here.
 */
export { LlamaCppBackend, type LlamaCppBackendOptions } from './llama-cpp.js';
export { checkLlamaGpus, detectGpuCount, llamaCppGpu, type LlamaGpus, type LlamaGpuKind } from './llama-gpu-check.js';
export { onnxGpus, ONNX_CUDA_INSTALL } from './onnx-gpus.js';
export { TransformersBackend, type TransformersBackendOptions } from './transformers.js';
export { importBackendPackage } from './import-package.js';
