/**
 * Discovery plugins as an administrator writes them (ES modules named in model_discovery.json)
 * for a made-up `.custom` format, and plugins that throw, hang, or return an invalid record;
 * and a model tree with a file for each beside a GGUF model the built-in readers take.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { llamaGgufMetadata, llamaTensors, writeGguf } from './formats-writer.js';

/** The made-up format: a magic line, a JSON header line, then weights the plugin never reads. */
export function writeCustomModel(path: string, header: Record<string, unknown>, weightBytes = 1024 * 1024): void {
  writeFileSync(path, Buffer.concat([Buffer.from(`CUSTOM1\n${JSON.stringify(header)}\n`), Buffer.alloc(weightBytes, 7)]));
}

const PLUGINS: Record<string, string> = {
  // Reads the header through the bounded reads it is given; a class, made with `new`.
  'custom.mjs': `
export default class CustomFormatPlugin {
  name = 'custom-format';
  canHandle(path) { return path.endsWith('.custom'); }
  header(path, files) {
    const [magic, json] = files.head(path, 4096).toString('utf8').split('\\n');
    if (magic !== 'CUSTOM1') throw new Error('not a CUSTOM1 file');
    return JSON.parse(json);
  }
  async extractMetadata(path, { files }) {
    const h = this.header(path, files);
    return { modelName: h.name, modelType: 'multimodal', architecture: 'CustomNet', parameterCount: h.params, tags: ['custom-format'], custom: { layers: h.layers } };
  }
  async detectModalities(path, { files }) {
    return this.header(path, files).modalities;
  }
}
`,
  'throws.mjs': `
export default {
  name: 'throws',
  canHandle: (path) => path.endsWith('.boom'),
  extractMetadata: async () => { throw new Error('boom: the header is upside down'); },
  detectModalities: async () => ['text'],
};
`,
  // Never answers for .slow files; canHandle never answers for .stuck files.
  'hangs.mjs': `
export default {
  name: 'hangs',
  canHandle: (path) => (path.endsWith('.stuck') ? new Promise(() => {}) : path.endsWith('.slow')),
  extractMetadata: () => new Promise(() => {}),
  detectModalities: async () => ['text'],
};
`,
  'invalid.mjs': `
export default {
  name: 'invalid',
  canHandle: async (path) => path.endsWith('.bad'),
  extractMetadata: async () => ({ modelType: 42, parameterCount: -5 }),
  detectModalities: async () => ['smell'],
};
`,
};

export interface PluginTree {
  /** The scan root. */
  root: string;
  /** model_discovery.json, naming the plugins relative to itself. */
  settingsFile: string;
  custom: string;
  boom: string;
  slow: string;
  bad: string;
  gguf: string;
}

/** Plugins under `<base>/home/plugins`, model_discovery.json in `<base>/home`, models under `<base>/models`. */
export function writePluginTree(base: string, { timeoutSeconds = 0.2 }: { timeoutSeconds?: number } = {}): PluginTree {
  const home = join(base, 'home');
  mkdirSync(join(home, 'plugins'), { recursive: true });
  for (const [name, source] of Object.entries(PLUGINS)) writeFileSync(join(home, 'plugins', name), source);
  const settingsFile = join(home, 'model_discovery.json');
  writeFileSync(settingsFile, JSON.stringify({
    discovery: {
      plugins: ['./plugins/custom.mjs', './plugins/throws.mjs', './plugins/invalid.mjs', './plugins/hangs.mjs'],
      plugin_timeout_seconds: timeoutSeconds,
      include_default_roots: false,
    },
  }));
  const root = join(base, 'models');
  mkdirSync(join(root, 'vendor'), { recursive: true });
  mkdirSync(join(root, 'llama'), { recursive: true });
  const custom = join(root, 'vendor', 'alpha.custom');
  writeCustomModel(custom, { name: 'Alpha Vision', params: 1_500_000, layers: 4, modalities: ['text', 'image'] });
  const file = (name: string) => {
    const path = join(root, 'vendor', name);
    writeFileSync(path, 'opaque');
    return path;
  };
  const gguf = join(root, 'llama', 'tiny.gguf');
  writeGguf(gguf, llamaGgufMetadata({ name: 'tiny' }), llamaTensors());
  return { root, settingsFile, custom, boom: file('beta.boom'), slow: file('gamma.slow'), bad: file('delta.bad'), gguf };
}
