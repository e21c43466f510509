/** Discovery over a fresh SQLite registry in a temporary folder, with every default store pointed inside it. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Discovery, Registry, loadConfig } from '../../src/index.js';
import { llamaGgufMetadata, llamaTensors, writeGguf } from './formats-writer.js';

/** Discovery over a SQLite registry at `<base>/registry.db`, its state in `<base>/home`; disposing it closes both. */
export async function open(base: string, options: Partial<Parameters<typeof Discovery.create>[0]> = {}) {
  const registry = await Registry.open({ store: 'sqlite', db: join(base, 'registry.db') });
  const config = loadConfig({ MM_HOME: join(base, 'home'), HF_HOME: join(base, 'none'), OLLAMA_MODELS: join(base, 'none'), LMSTUDIO_MODELS: join(base, 'none') });
  const discovery = await Discovery.create({ registry, config, ...options }).catch(async (error: unknown) => {
    await registry.close();
    throw error;
  });
  return {
    registry,
    discovery,
    async [Symbol.asyncDispose]() {
      await discovery.close();
      await registry.close();
    },
  };
}

/** Writes a small llama GGUF model `<dir>/<name>.gguf`; returns its path. */
export function ggufModel(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.gguf`);
  writeGguf(path, llamaGgufMetadata({ name }), llamaTensors());
  return path;
}

