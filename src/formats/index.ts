/** Readers of model file headers (never the weights), shared by import, estimation and discovery. */
export * from './safetensors.js';
export * from './safetensors-read.js';
export * from './bounded-reader.js';
export * from './gguf.js';
export * from './gguf-shards.js';
export * from './onnx.js';
export * from './ggml.js';
export * from './variants.js';
