/**
 * Custom backends through the public registerBackend(), and the lifecycle mechanics that need
 * controlled timing (a request held open while another arrives). The gated backend below is a
 * test double for exactly that; everything else in test/runtime runs on the real backends.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { InferenceBackend, LoadedModel, LoadOptions, ModelLocation } from '../../src/runtime/index.js';
import { Registry } from '../../src/registry/index.js';
import { ModelManager } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, waitFor } from './fixtures.js';

const dir = tempDir('mm-runtime-custom-');
after(() => dir[Symbol.dispose]());

function echoModel(name: string): string {
  const path = join(dir.path, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'model.echo'), 'echo');
  return path;
}

function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Serves the `echo` task; each call waits until the test opens the gate. */
class GatedEchoBackend implements InferenceBackend {
  readonly name = 'gated-echo';
  readonly tasks = ['echo'];
  loads = 0;
  disposed = 0;
  /** Instances disposed while one of their requests was still running: never, if the manager waits. */
  disposedUnderRequest = 0;
  #gate = gate();
  started = 0;

  supports(location: ModelLocation): boolean {
    return location.path.includes(dir.path);
  }

  open(): void {
    this.#gate.resolve();
  }

  close(): void {
    this.#gate = gate();
  }

  /** When set, loads wait for it. */
  loadGate: Promise<void> | undefined;
  /** When set, instances run on the CPU whatever device was asked for (like a CPU-only backend). */
  cpuOnly = false;

  async load({ device }: LoadOptions): Promise<LoadedModel> {
    const instance = ++this.loads;
    let running = 0;
    await this.loadGate;
    return {
      backend: this.name,
      device: this.cpuOnly ? 'cpu' : device,
      run: async (_task, data) => {
        this.started += 1;
        running += 1;
        try {
          await this.#gate.promise;
          return { instance, echo: data };
        } finally {
          running -= 1;
        }
      },
      dispose: async () => {
        if (running > 0) this.disposedUnderRequest += 1;
        this.disposed += 1;
      },
    };
  }
}

const echo = (modelName: string, taskData: unknown = 'hi', extra: Record<string, unknown> = {}) => ({ taskData, taskType: 'echo', modelName, ...extra });

test('a registered backend adds a task type; before that the type is UNSUPPORTED_TASK', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0 });
  const model = echoModel('plain');
  const before = await manager.task(echo(model));
  assert.equal(before.success ? '' : before.error.code, 'UNSUPPORTED_TASK');
  const backend = new GatedEchoBackend();
  backend.open();
  manager.registerBackend(backend);
  assert.deepEqual(dataOf(await manager.task(echo(model, { any: ['shape'] }))), { instance: 1, echo: { any: ['shape'] } });
  assert.ok(manager.getStatus().backends.includes('gated-echo'));
});

test('with several workers, concurrent requests go to different instances; the rest wait for the first free one', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0 });
  const backend = new GatedEchoBackend();
  manager.registerBackend(backend);
  const model = echoModel('workers');
  dataOf(await manager.task(echo(model, null, { numWorkers: 2 })));
  const running = [manager.task(echo(model, 1)), manager.task(echo(model, 2)), manager.task(echo(model, 3))];
  await waitFor(() => backend.started === 2, 'two requests running');
  assert.equal(manager.ps()[0]?.queue, 1);
  assert.equal(manager.ps()[0]?.expiresAt, null, 'no keep-alive countdown while requests run or wait');
  backend.open();
  const results = (await Promise.all(running)).map((r) => dataOf<{ instance: number }>(r).instance);
  assert.deepEqual(new Set(results.slice(0, 2)), new Set([1, 2]));
});

test('on GPUs the workers are capped by the GPUs found', async () => {
  await using manager = await ModelManager.create({ gpuCount: 2 });
  manager.registerBackend(new GatedEchoBackend());
  const data = dataOf<{ workers: number; device: string }>(await manager.task(echo(echoModel('gpu'), null, { numWorkers: 4, device: 'gpu' })));
  assert.deepEqual([data.workers, data.device], [2, 'gpu']);
});

test('a backend that runs the model elsewhere than planned is reported as it is, with a warning', async () => {
  const warnings: string[] = [];
  await using manager = await ModelManager.create({ gpuCount: 1, onWarning: (w) => warnings.push(w) });
  const backend = new GatedEchoBackend();
  backend.cpuOnly = true;
  manager.registerBackend(backend);
  const model = echoModel('cpu-only');
  const data = dataOf<{ device: string }>(await manager.task(echo(model, null, { device: 'gpu' })));
  assert.equal(data.device, 'cpu');
  assert.equal(manager.ps()[0]?.sizeVram, 0);
  assert.match(warnings.join('\n'), /runs it on cpu, not gpu/);
});

test('a loaded model with a busy worker queues up to maxQueue, then answers QUEUE_FULL at once', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0, maxQueue: 1 });
  const backend = new GatedEchoBackend();
  manager.registerBackend(backend);
  const model = echoModel('queue');
  dataOf(await manager.task(echo(model, null)));
  const first = manager.task(echo(model, 1));
  await waitFor(() => backend.started === 1, 'first request running');
  const second = manager.task(echo(model, 2));
  await waitFor(() => manager.ps()[0]?.queue === 1, 'second request queued');
  const third = await manager.task(echo(model, 3));
  assert.equal(third.success ? '' : third.error.code, 'QUEUE_FULL');
  backend.open();
  assert.equal((await first).success && (await second).success, true);
});

test('releaseModel lets running requests finish before it frees the instances', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0 });
  const backend = new GatedEchoBackend();
  manager.registerBackend(backend);
  const model = echoModel('release');
  const running = manager.task(echo(model, 'in flight'));
  await waitFor(() => backend.started === 1, 'request running');
  const releasing = manager.releaseModel(model);
  // Forgotten at once (a new request loads it afresh), but listed while a request still runs in it.
  assert.deepEqual(manager.ps().map((m) => [m.state, m.running, m.tasks.length]), [['unloading', 1, 1]]);
  // One turn of the event loop lets the release go as far as it can before the request ends.
  await new Promise((r) => setImmediate(r));
  backend.open();
  assert.equal(dataOf<{ echo: string }>(await running).echo, 'in flight');
  assert.equal(await releasing, true);
  assert.equal(backend.disposed, 1);
  assert.equal(backend.disposedUnderRequest, 0, 'not disposed under a running request');
  assert.equal(manager.ps().length, 0);
});

test('shutdown fails queued requests with SHUTTING_DOWN and frees the model after the running one', async () => {
  const manager = await ModelManager.create({ gpuCount: 0 });
  const backend = new GatedEchoBackend();
  manager.registerBackend(backend);
  const model = echoModel('shutdown');
  const running = manager.task(echo(model, 1));
  await waitFor(() => backend.started === 1, 'request running');
  const queued = manager.task(echo(model, 2));
  await waitFor(() => manager.ps()[0]?.queue === 1, 'second request queued');
  const stopping = manager.shutdown();
  const refused = await queued;
  assert.equal(refused.success ? '' : refused.error.code, 'SHUTTING_DOWN');
  backend.open();
  assert.equal((await running).success, true);
  await stopping;
  assert.equal(backend.disposed, 1);
});

test('a model released while it loads is not served; its waiting requests go to a fresh load', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0 });
  const backend = new GatedEchoBackend();
  backend.open();
  const loading = gate();
  backend.loadGate = loading.promise;
  manager.registerBackend(backend);
  const model = echoModel('released-while-loading');
  const waiting = manager.task(echo(model, 'still wanted'));
  await waitFor(() => backend.loads === 1, 'load started');
  const releasing = manager.releaseModel(model);
  loading.resolve();
  assert.equal(await releasing, true);
  assert.deepEqual(dataOf(await waiting), { instance: 2, echo: 'still wanted' });
  assert.equal(backend.disposed, 1);
});

test('without a backend estimate, the registry memoryEstimate is the cost checked against the budget', async () => {
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry.db') });
  const path = echoModel('estimated');
  await registry.addModel({
    modelId: 'test/estimated-echo', modelType: 'custom', localPath: path,
    memoryEstimate: { weightsBytes: 10_000, kvCacheBytesPerToken: 0, totalBytes: 12_345, context: 0, batch: 1, dtype: 'f32', method: 'test' },
  });
  await using manager = await ModelManager.create({ registry, gpuCount: 0, memoryBudgetBytes: 30_000 });
  const backend = new GatedEchoBackend();
  backend.open();
  manager.registerBackend(backend);
  dataOf(await manager.task(echo('test/estimated-echo', null, { numWorkers: 2 })));
  assert.equal(manager.getModelStatus('test/estimated-echo')?.estimatedBytes, 24_690);
  const again = await manager.task(echo('test/estimated-echo', null, { numWorkers: 3 }));
  assert.equal(again.success, true, 'the loaded model is reused, whatever workers a later request names');
  assert.equal(await manager.releaseModel('test/estimated-echo'), true);
  const refused = await manager.task(echo('test/estimated-echo', null, { numWorkers: 3 }));
  assert.equal(refused.success ? '' : refused.error.code, 'OUT_OF_MEMORY');
});

test('concurrent embedding requests are cut into batches of neighbours in text length, whatever their arrival order', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 }, batching: { maxBatchSize: 16 } });
  const batches: number[][] = [];
  manager.registerBackend({
    name: 'length-recorder',
    tasks: ['embedding'],
    supports: (location) => location.path.includes(dir.path),
    load: async () => ({
      backend: 'length-recorder',
      device: 'cpu',
      embed: async (texts) => {
        batches.push(texts.map((t) => t.length));
        return texts.map((t) => [t.length]);
      },
      dispose: async () => {},
    }),
  });
  const model = echoModel('lengths');
  dataOf(await manager.task({ taskData: null, taskType: 'embedding', modelName: model }));
  // Short and long texts arrive interleaved; a backend pads each batch to its longest text.
  const texts = Array.from({ length: 32 }, (_, i) => (i % 2 ? 'l' : 's').repeat((i % 2 ? 200 : 5) + (i % 4)));
  const results = await Promise.all(texts.map((t) => manager.task({ taskData: [t], taskType: 'embedding', modelName: model })));
  results.forEach((r, i) => assert.deepEqual(dataOf<{ embeddings: number[][] }>(r).embeddings, [[texts[i]!.length]], 'each caller gets its own vector'));
  assert.equal(batches.length, 2);
  for (const batch of batches) assert.ok(Math.max(...batch) - Math.min(...batch) < 10, `one batch mixes lengths ${batch.join(',')}`);
});
