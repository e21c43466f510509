/**
 * The settings file, `MM_<PATH>` environment variables and `--set` flags as loadSettings() reads
 * them: seed 001's names in either spelling, nested or flat dotted keys, YAML or JSON, and one
 * error naming the setting and the line (or variable) that wrote a bad value.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import { loadSettings, type LoadedSettings } from '../../src/settings/index.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('mm-settings-');
after(() => dir[Symbol.dispose]());

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

/** The INVALID_CONFIG (or other coded) error a load fails with. */
async function refusal(load: Promise<LoadedSettings>, code = 'INVALID_CONFIG'): Promise<string> {
  try {
    await load;
  } catch (error) {
    assert.ok(isModelManagerError(error, code as never), `expected ${code}, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the settings were accepted');
}

const EMBEDDING = {
  type: 'embedding',
  name: 'mixedbread-ai/mxbai-embed-large-v1',
  localPath: join(dir.path, 'models', 'mixedbread'),
  dimension: 1024,
  device: 'cpu',
  batchSize: 32,
  shared: true,
  cacheEmbeddings: true,
};
const T5 = { type: 'text2text', name: 'google/flan-t5-large', localPath: join(dir.path, 'models', 't5'), shared: true, maxInputLength: 512, maxOutputLength: 128 };

test('the seed\'s flat dotted keys, nested YAML keys and JSON give the same settings; paths are relative to the file', async () => {
  const flat = write('flat.yaml', [
    '# seed 001, as its settings module writes them',
    '"models.embedding.type": embedding',
    '"models.embedding.name": mixedbread-ai/mxbai-embed-large-v1',
    '"models.embedding.local_path": ./models/mixedbread',
    '"models.embedding.dimension": 1024',
    '"models.embedding.device": cpu',
    '"models.embedding.batch_size": 32',
    '"models.embedding.shared": true',
    '"models.embedding.cache_embeddings": true',
    '"models.t5_summarizer.type": text2text',
    '"models.t5_summarizer.name": google/flan-t5-large',
    '"models.t5_summarizer.local_path": ./models/t5',
    '"models.t5_summarizer.max_input_length": 512',
    '"models.t5_summarizer.max_output_length": 128',
    'device_preference: cpu',
    'gpu_memory_fraction: 0.8',
    '"sharing.max_shared_models": 5',
    '"sharing.unload_after_seconds": 1800',
    '"embedding_cache.max_cache_size": 500',
    '"embedding_cache.ttl_seconds": 60',
  ].join('\n'));
  const nested = write('nested.yaml', `
devicePreference: cpu
gpuMemoryFraction: 0.8
sharing: { maxSharedModels: 5, unloadAfterSeconds: 1800 }
embeddingCache:
  maxCacheSize: 500
  ttlSeconds: 60
models:
  embedding:
    type: embedding
    name: mixedbread-ai/mxbai-embed-large-v1
    localPath: ./models/mixedbread
    dimension: 1024
    device: cpu
    batchSize: 32
    shared: true
    cacheEmbeddings: true
  t5_summarizer: { type: text2text, name: google/flan-t5-large, localPath: ./models/t5, maxInputLength: 512, maxOutputLength: 128 }
`);
  const json = write('settings.json', JSON.stringify({
    device_preference: 'cpu', gpu_memory_fraction: 0.8, sharing: { max_shared_models: 5, unload_after_seconds: 1800 },
    embedding_cache: { max_cache_size: 500, ttl_seconds: 60 },
    models: {
      embedding: { type: 'embedding', name: 'mixedbread-ai/mxbai-embed-large-v1', local_path: './models/mixedbread', dimension: 1024, device: 'cpu', batch_size: 32, shared: true, cache_embeddings: true },
      t5_summarizer: { type: 'text2text', name: 'google/flan-t5-large', local_path: './models/t5', max_input_length: 512, max_output_length: 128 },
    },
  }, null, 2));
  for (const file of [flat, nested, json]) {
    const { values } = await loadSettings({ file, env: {} });
    assert.deepEqual(values.models, { embedding: EMBEDDING, t5_summarizer: T5 }, file);
    assert.equal(values.devicePreference, 'cpu');
    assert.equal(values.gpuMemoryFraction, 0.8);
    assert.deepEqual(values.sharing, { maxSharedModels: 5, unloadAfterSeconds: 1800 });
    assert.deepEqual(values.embeddingCache, { enabled: true, maxCacheSize: 500, ttlSeconds: 60, persistToDisk: false });
  }
});

test('a bad value is one INVALID_CONFIG error naming the setting and the line that wrote it', async () => {
  const yaml = write('bad.yaml', [
    'device_preference: auto',
    'models:',
    '  embedding:',
    '    type: embedding',
    '    name: org/embed',
    '    device: gpux',
    '"models.embedding.batch_size": 0',
  ].join('\n'));
  const message = await refusal(loadSettings({ file: yaml, env: {} }));
  assert.match(message, new RegExp(`${yaml}:6: models\\.embedding\\.device: device "gpux" is not valid: use cpu, gpu, cuda:N or auto`));
  assert.match(message, new RegExp(`${yaml}:7: models\\.embedding\\.batchSize: `));
  assert.doesNotMatch(message, /\n/);

  const json = write('bad.json', '{\n  "models": {\n    "t5": {\n      "type": "text2text",\n      "name": "google/flan-t5-small",\n      "dimension": 8\n    }\n  }\n}\n');
  assert.match(await refusal(loadSettings({ file: json, env: {} })), new RegExp(`${json}:6: models\\.t5\\.dimension: a text2text model takes no dimension`));

  // A model without a name is reported where the model is written.
  const nameless = write('nameless.yaml', 'sharing:\n  max_shared_models: 2\nmodels:\n  embedding:\n    type: embedding\n');
  assert.match(await refusal(loadSettings({ file: nameless, env: {} })), new RegExp(`${nameless}:4: models\\.embedding\\.name: say what to load`));
});

test('an unknown key, a key set twice and broken YAML are refused at their line', async () => {
  const unknown = write('unknown.yaml', 'gpu_memory_fraction: 0.5\nallow_gpu_growth: true\n');
  assert.match(await refusal(loadSettings({ file: unknown, env: {} })), new RegExp(`${unknown}:2: allowGpuGrowth: unknown setting`));

  const twice = write('twice.yaml', 'models:\n  embedding:\n    type: embedding\n    device: cpu\n"models.embedding.device": gpu\n');
  assert.match(await refusal(loadSettings({ file: twice, env: {} })), new RegExp(`${twice}:5: models\\.embedding\\.device is set twice \\(also at ${twice}:4\\)`));

  const broken = write('broken.yaml', 'sharing:\n  max_shared_models: 2\n  max_shared_models: 3\n');
  assert.match(await refusal(loadSettings({ file: broken, env: {} })), new RegExp(`${broken}:3: Map keys must be unique`));

  const list = write('list.yaml', '- embedding\n');
  assert.match(await refusal(loadSettings({ file: list, env: {} })), /list\.yaml:1: a settings file is a mapping/);
});

test('MM_<PATH> environment variables override the file, and a bad one is named', async () => {
  const file = write('env.yaml', 'models:\n  t5_summarizer:\n    type: text2text\n    name: google/flan-t5-small\n  embedding:\n    type: embedding\n    name: org/embed\n    device: gpu\n');
  const { values } = await loadSettings({
    file,
    env: {
      MM_MODELS_EMBEDDING_DEVICE: 'cpu',
      MM_GPU_MEMORY_FRACTION: '0.8',
      MM_MODELS_T5_SUMMARIZER_LOCAL_PATH: 'models/t5',
      MM_SHARING_MAX_SHARED_MODELS: '2',
      MM_EMBEDDING_CACHE_ENABLED: 'false',
      MM_DEVICE_PREFERENCE: 'cpu',
      // Not settings: left alone.
      MM_HOME: '/elsewhere', MM_STORE: 'json',
    },
  });
  assert.equal(values.models.embedding!.device, 'cpu');
  assert.equal(values.gpuMemoryFraction, 0.8);
  // A path from the environment is the caller's, not the file's: kept as given.
  assert.equal(values.models.t5_summarizer!.localPath, 'models/t5');
  assert.equal(values.sharing.maxSharedModels, 2);
  assert.equal(values.embeddingCache.enabled, false);
  assert.equal(values.devicePreference, 'cpu');

  assert.match(await refusal(loadSettings({ file, env: { MM_GPU_MEMORY_FRACTION: '1.5' } })), /^invalid settings: MM_GPU_MEMORY_FRACTION: gpuMemoryFraction: /);
  assert.match(await refusal(loadSettings({ file, env: { MM_MODELS_EMBEDDING_DEVCE: 'cpu' } })), /^MM_MODELS_EMBEDDING_DEVCE: not a model setting/);
  // A model named only in the environment still needs its type.
  assert.match(await refusal(loadSettings({ file, env: { MM_MODELS_RERANKER_NAME: 'org/rerank' } })), /MM_MODELS_RERANKER_NAME: models\.reranker\.type: /);
});

test('flags override the environment, and every value says where it came from', async () => {
  const file = write('sources.yaml', 'gpu_memory_fraction: 0.5\nmax_queue: 10\nmodels:\n  embedding:\n    type: embedding\n    name: org/embed\n');
  const settings = await loadSettings({
    file,
    env: { MM_MAX_QUEUE: '20', MM_MODELS_EMBEDDING_DEVICE: 'gpu' },
    set: ['models.embedding.device=cpu', 'sharing.unload_after_seconds=-1'],
  });
  const origin = (key: string) => settings.entries.find((e) => e.key === key);
  assert.deepEqual(origin('gpuMemoryFraction'), { key: 'gpuMemoryFraction', value: 0.5, origin: { source: 'file', file, line: 1 } });
  assert.deepEqual(origin('maxQueue'), { key: 'maxQueue', value: 20, origin: { source: 'env', name: 'MM_MAX_QUEUE' } });
  assert.deepEqual(origin('models.embedding.device'), { key: 'models.embedding.device', value: 'cpu', origin: { source: 'flag', name: '--set models.embedding.device' } });
  assert.deepEqual(origin('sharing.unloadAfterSeconds')?.value, -1);
  assert.deepEqual(origin('embeddingCache.ttlSeconds'), { key: 'embeddingCache.ttlSeconds', value: 3600, origin: { source: 'default' } });
  assert.equal(settings.file, file);

  assert.match(await refusal(loadSettings({ file, env: {}, set: ['max_queue'] })), /--set "max_queue": write key=value/);
});

test('a --settings file that is not there is FILE_NOT_FOUND; without one, the defaults hold', async () => {
  await refusal(loadSettings({ file: join(dir.path, 'absent.yaml'), env: {} }), 'FILE_NOT_FOUND');
  const settings = await loadSettings({ env: { MM_SETTINGS: join(dir.path, 'absent.yaml') } });
  assert.equal(settings.values.sharing.maxSharedModels, 3);
  assert.deepEqual(settings.values.models, {});
});
