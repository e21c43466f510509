/**
 * JSON schemas of the HTTP API: fastify validates requests and serializes responses with them,
 * and @fastify/swagger publishes them as the OpenAPI document at /docs.
 *
 * ModelMetadata comes from the registry's zod schema, so the API documents exactly what is stored.
 * Model bodies are validated by the registry itself (INVALID_METADATA lists every bad field).
 */
import { z } from 'zod';
import { modelMetadataSchema } from '../registry/schema.js';

type JsonSchema = Record<string, unknown>;

function fromZod(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', description: 'stable code from the catalogue, e.g. MODEL_NOT_FOUND' },
        message: { type: 'string', description: 'what went wrong and what to do next' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

export const modelSchema = { $id: 'ModelMetadata', ...fromZod(modelMetadataSchema, 'output') };

export const versionSchema = {
  $id: 'VersionInfo',
  type: 'object',
  required: ['modelId', 'version', 'createdAt', 'change'],
  properties: {
    modelId: { type: 'string' },
    version: { type: 'integer' },
    createdAt: { type: 'string' },
    change: { type: 'string', description: 'what made this version: add, update, rollback to 2, ...' },
  },
} as const;

/** Every shared schema, registered once with `app.addSchema`. */
export const SHARED_SCHEMAS = [errorSchema, modelSchema, versionSchema];

export const errorRef = { $ref: 'Error#' } as const;
export const modelRef = { $ref: 'ModelMetadata#' } as const;

/** A response map: the success schema plus the error shape for every failure. */
export function replies(success: JsonSchema, status = 200): Record<string, JsonSchema> {
  return { [status]: success, '4xx': errorRef, '5xx': errorRef };
}

/** Any JSON object: documented in the description, checked by the code behind the route. */
export const anyObject = { type: 'object', additionalProperties: true } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'model id; `org/name` and `org%2Fname` both work' } },
} as const;

const list = { type: 'array', items: { type: 'string' } } as const;

/** The filters of `mm list`; repeat a parameter (or separate by commas) for "any of". */
export const listQuery = {
  type: 'object',
  properties: {
    type: { ...list, description: 'model type(s), e.g. decoder_only' },
    arch: { ...list, description: 'architecture(s)' },
    tag: { ...list, description: 'tags the model must all carry' },
    input: { ...list, description: 'input data type(s), e.g. TEXT' },
    output: { ...list, description: 'output data type(s), e.g. EMBEDDINGS' },
    attention: { ...list, description: 'mha, gqa, mqa, mla' },
    format: { ...list, description: 'safetensors, pytorch, onnx, gguf, ggml' },
    source: { ...list, description: 'manual, huggingface, discovered, static' },
    modality: { ...list, description: 'text, image, audio, video (any of them)' },
    minParams: { type: 'string', description: 'at least this many parameters: 7B, 500M' },
    maxParams: { type: 'string', description: 'at most this many parameters' },
    fits: { type: 'string', description: 'estimated memory at most this: 16GB, 8GiB' },
    limit: { type: 'integer', minimum: 0, maximum: 10000 },
    offset: { type: 'integer', minimum: 0 },
    sort: { type: 'string', enum: ['modelId', 'modelName', 'parameterCount', 'contextLength', 'createdAt', 'updatedAt'] },
    order: { type: 'string', enum: ['asc', 'desc'] },
  },
  additionalProperties: false,
} as const;

export const modelListSchema = {
  type: 'object',
  required: ['count', 'total', 'models'],
  properties: { count: { type: 'integer' }, total: { type: 'integer' }, models: { type: 'array', items: modelRef } },
} as const;
