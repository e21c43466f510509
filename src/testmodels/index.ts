/**
 * Generators of real-format models with random weights (GGUF llama and bert, ONNX bert with a
 * WordPiece tokenizer), for tests, benchmarks and `mm testmodel`.
 */
export * from './write-test-model.js';
export { writeGgufFile, toFloat16Bits, GGML_TYPES, type GgufValue as GgufWriterValue, type GgufFileSpec, type GgufTensorSpec, type GgmlType } from './gguf-writer.js';
