/**
 * A failed task keeps what caused it: the library caller reads `result.error.cause` (and
 * generateEmbeddings() throws with it), the server's log names it, and neither an HTTP body nor
 * a Result turned into JSON carries it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { createServer, isModelManagerError, ModelManager, Registry } from '../../src/index.js';
import type { InferenceBackend, LoadedModel, ModelLocation } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('mm-failure-cause-');
after(() => dir[Symbol.dispose]());

const modelPath = join(dir.path, 'overheating');
mkdirSync(modelPath, { recursive: true });
writeFileSync(join(modelPath, 'model.heat'), 'heat');

/** A user's backend whose engine fails with an error that has a cause of its own. */
class OverheatingBackend implements InferenceBackend {
  readonly name = 'overheating';
  readonly tasks = ['embedding'];
  readonly failures: Error[] = [];

  supports(location: ModelLocation): boolean {
    return location.path === modelPath;
  }

  async load(): Promise<LoadedModel> {
    return {
      backend: this.name,
      device: 'cpu',
      embed: async () => {
        const failure = new Error('the engine stopped', { cause: new Error('overheated at 451 K') });
        this.failures.push(failure);
        throw failure;
      },
      dispose: async () => {},
    };
  }
}

test('a failed Result keeps the cause for the library caller, out of its JSON', async () => {
  await using manager = await ModelManager.create();
  const backend = new OverheatingBackend();
  manager.registerBackend(backend);
  const result = await manager.task({ taskData: ['hot'], taskType: 'embedding', modelName: modelPath });
  assert.equal(result.success, false);
  if (result.success) return;
  assert.equal(result.error.code, 'TASK_FAILED');
  assert.equal(result.error.cause, backend.failures[0], 'the cause is the backend\'s own error');
  assert.equal((result.error.cause as Error).cause instanceof Error, true, 'with its own cause');
  assert.doesNotMatch(JSON.stringify(result), /"cause"|451 K/, 'JSON leaves it out');
  assert.equal('cause' in { ...result.error }, false, 'so does a spread');

  await assert.rejects(manager.generateEmbeddings(['hot'], modelPath), (error) => {
    assert.ok(isModelManagerError(error, 'TASK_FAILED'));
    assert.equal(error.cause, backend.failures[1]);
    return true;
  });
});

test('over HTTP the body has no cause; the server log names it', async () => {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => { lines.push(chunk.toString('utf8')); done(); } });
  await using registry = await Registry.open({ store: 'json', db: join(dir.path, 'registry.json') });
  await registry.addModel({ modelId: 'test/overheating', modelName: 'overheating', modelType: 'embedding_model', localPath: modelPath });
  await using manager = await ModelManager.create({ registry });
  manager.registerBackend(new OverheatingBackend());
  const app = await createServer({ registry, runtime: manager, logger: { level: 'error', stream } });
  try {
    const res = await app.inject({ method: 'POST', url: '/api/task', payload: { taskData: ['hot'], taskType: 'embedding', modelName: 'test/overheating' } });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(Object.keys(res.json().error).sort(), ['code', 'details', 'message']);
    assert.equal(res.json().error.code, 'TASK_FAILED');
    assert.doesNotMatch(res.body, /"cause"|451 K/);
    assert.match(lines.join(''), /overheated at 451 K/, 'the log has the whole chain');
  } finally {
    await app.close();
  }
});
