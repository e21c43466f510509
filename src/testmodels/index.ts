/**
 * Generators of real-format models with random weights (GGUF llama and bert; ONNX BERT, GPT-2 and
 * T5 with their tokenizers), for tests, benchmarks and `mm testmodel`.
 */
export * from './write-test-model.js';
export { writeGgufFile, toFloat16Bits, GGML_TYPES, type GgufValue as GgufWriterValue, type GgufFileSpec, type GgufTensorSpec, type GgmlType } from './gguf-writer.js';
