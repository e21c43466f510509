/**
 * A server over a real SqliteStore in a temp folder, for app.inject() tests.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Discovery, Registry, createServer, loadConfig, type CreateServerOptions, type ModelMetadataInput } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';

export interface Harness {
  app: FastifyInstance;
  registry: Registry;
  dir: string;
  /** A folder inside the server's model roots. */
  modelsDir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

export function model(modelId: string, extra: Partial<ModelMetadataInput> = {}): ModelMetadataInput {
  return {
    modelId,
    modelType: 'decoder_only',
    architecture: 'LlamaForCausalLM',
    format: 'gguf',
    parameterCount: 1_000_000,
    tags: ['test'],
    inputs: [{ name: 'prompt', dataType: 'TEXT' }],
    outputs: [{ name: 'text', dataType: 'TEXT' }],
    ...extra,
  };
}

/** Services made over the harness's registry (a real Discovery, say), and how to close them. */
export type ServicesFactory = (made: { registry: Registry; dir: string; modelsDir: string }) => Promise<{
  options: Partial<CreateServerOptions>;
  close?: () => Promise<void>;
}>;

export async function startHarness(
  options: Omit<CreateServerOptions, 'registry'> = {},
  models: ModelMetadataInput[] = [],
  services?: ServicesFactory,
): Promise<Harness> {
  const tmp = tempDir('mm-server-');
  const modelsDir = join(tmp.path, 'models');
  mkdirSync(modelsDir);
  const registry = await Registry.open({ instance: await SqliteStore.open(join(tmp.path, 'registry.db')) });
  if (models.length) await registry.addModels(models);
  const extra = services ? await services({ registry, dir: tmp.path, modelsDir }) : { options: {} };
  const app = await createServer({ registry, modelRoots: [modelsDir], ...options, ...extra.options });
  return {
    app, registry, dir: tmp.path, modelsDir,
    async [Symbol.asyncDispose]() {
      await app.close();
      await extra.close?.();
      await registry.close();
      tmp[Symbol.dispose]();
    },
  };
}

/** A harness whose server runs a real Discovery over its models folder. */
export function startHarnessWithDiscovery(options: Omit<CreateServerOptions, 'registry'> = {}, models: ModelMetadataInput[] = []): Promise<Harness> {
  return startHarness(options, models, async ({ registry, dir, modelsDir }) => {
    const discovery = await Discovery.create({ registry, roots: [modelsDir], stateDir: join(dir, 'discovery'), config: loadConfig({ MM_HOME: dir }) });
    return { options: { discovery }, close: () => discovery.close() };
  });
}
