/**
 * A model slot's lifecycle (loading → ready → unloading → closed): each state allows only its own
 * moves, and a move it does not allow is refused with INTERNAL instead of corrupting the books.
 * The slot is driven directly here; the instance is a stand-in that counts its disposals (the
 * real backends are disposed through the manager in lifecycle.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import type { LoadedModel } from '../../src/runtime/backends/backend.js';
import { ModelSlot } from '../../src/runtime/model-slot.js';
import { WorkerPool } from '../../src/runtime/worker-pool.js';

const refused = (action: RegExp) => (error: unknown) => isModelManagerError(error, 'INTERNAL') && action.test(error.message);

/** A slot whose load the test finishes (or fails) when it wants, and the instance it loads. */
function slot() {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const instance = { backend: 'stand-in', device: 'cpu' as const, disposals: 0, async dispose() { this.disposals += 1; } } satisfies LoadedModel & { disposals: number };
  const location = { key: '/models/m', via: 'path' as const, path: '/models/m' };
  const config = { taskType: 'embedding', requestedDevice: 'cpu' as const, device: 'cpu' as const, workers: 1, keepAliveMs: 60_000 };
  const model = new ModelSlot('/models/m\0embedding', 'm', location, config, (s) => new Promise<void>((resolve, reject) => {
    finish = () => {
      s.finishLoad({ pool: new WorkerPool([instance]), device: 'cpu', gpuKind: undefined, sizeBytes: 10, loadTimeMs: 1, memoryBytes: 10 });
      resolve();
    };
    fail = reject;
  }));
  return { model, instance, finish: () => finish(), fail: (error: Error) => fail(error) };
}

test('loading: requests may enter and wait; nothing that needs the instances is allowed yet', async () => {
  const { model, finish } = slot();
  assert.equal(model.state, 'loading');
  assert.throws(() => model.addRef(), refused(/take a reference while loading/));
  assert.throws(() => model.enterTask(undefined), refused(/run a task while loading/));
  assert.throws(() => model.leave(), refused(/none is inside/));
  model.enter();
  const waiting = model.whenLoaded();
  assert.equal(model.awaitingLoad, 1);
  finish();
  await waiting;
  assert.deepEqual([model.state, model.awaitingLoad, model.inFlight], ['ready', 0, 1]);
});

test('ready: a load cannot finish twice, fail, or be planned again; the keep-alive counts down only when idle', () => {
  const { model, finish } = slot();
  finish();
  const again = { pool: new WorkerPool([]), device: 'cpu' as const, gpuKind: undefined, sizeBytes: 1, loadTimeMs: 1, memoryBytes: 1 };
  assert.throws(() => model.finishLoad(again), refused(/finish loading while ready/));
  assert.throws(() => model.failLoad(), refused(/fail its load while ready/));
  assert.throws(() => model.reserve(1), refused(/reserve memory while ready/));
  model.addRef();
  assert.throws(() => model.armKeepAlive(() => {}), refused(/not idle/));
  model.dropRef();
  model.dropRef();
  assert.equal(model.refs, 0, 'a reference dropped twice (released by force meanwhile) stays at none');
  model.armKeepAlive(() => {});
  assert.notEqual(model.expiresAt, null);
  model.enter();
  assert.equal(model.expiresAt, null, 'a request stops the countdown');
  model.leave();
  assert.equal(model.idle, true);
});

test('unloading: no request enters; the instance is disposed once, after the last request inside leaves; closed refuses everything', async () => {
  const { model, instance, finish } = slot();
  finish();
  model.enter();
  const task = model.enterTask(undefined);
  let closed = false;
  const closing = model.unload().then(() => (closed = true));
  assert.equal(model.state, 'unloading');
  assert.equal(model.unload(), model.unload(), 'unloading again waits on the same close');
  assert.throws(() => model.enter(), refused(/take a request while unloading/));
  assert.throws(() => model.addRef(), refused(/take a reference while unloading/));
  assert.ok(model.pool, 'the request inside still has its instances');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([closed, instance.disposals], [false, 0], 'not while a request is inside');

  task.end();
  model.leave();
  await closing;
  assert.deepEqual([model.state, instance.disposals, model.pool], ['closed', 1, undefined]);
  await model.unload();
  assert.equal(instance.disposals, 1, 'disposed once');
  for (const [move, action] of [
    [() => model.enter(), /take a request while closed/],
    [() => model.enterTask(undefined), /run a task while closed/],
    [() => model.setKeepAlive(0), /take a keep-alive while closed/],
    [() => model.reserveVram('cuda:0', 1), /reserve GPU memory while closed/],
    [() => model.failLoad(), /fail its load while closed/],
  ] as const) assert.throws(move, refused(action));
});

test('released while loading: the load keeps its books until it ends, never becomes ready, and the slot closes', async () => {
  const { model, finish, fail } = slot();
  const closing = model.unload();
  assert.equal(model.state, 'unloading');
  model.reserve(5);
  assert.equal(model.sizeBytes, 5, 'the load still under way may reserve');
  assert.throws(() => finish(), refused(/finish loading while unloading/));
  model.failLoad();
  assert.equal(model.state, 'unloading', 'the unload closes it, not the failed load');
  fail(new Error('released while it loaded'));
  await closing;
  assert.equal(model.state, 'closed');
});

test('a failed load closes the slot and its waiters get the error', async () => {
  const { model, fail } = slot();
  model.enter();
  const waiting = model.whenLoaded();
  model.failLoad();
  fail(new Error('no such file'));
  await assert.rejects(waiting, /no such file/);
  assert.equal(model.state, 'closed');
  model.leave();
  assert.equal(model.inFlight, 0);
});
