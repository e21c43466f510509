/** Readers of model file headers (never the weights), shared by import, estimation and discovery. */
export * from './safetensors.js';
