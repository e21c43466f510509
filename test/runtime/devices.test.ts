import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import { parseDevice, planDevice } from '../../src/runtime/devices.js';

test('without a GPU every device falls back to CPU, with a warning unless auto was asked', () => {
  assert.deepEqual(planDevice('auto', 2, 0), { device: 'cpu', workers: 2 });
  for (const asked of ['gpu', 'cuda:0'] as const) {
    const plan = planDevice(asked, 2, 0);
    assert.equal(plan.device, 'cpu');
    assert.equal(plan.workers, 2);
    assert.match(plan.warning ?? '', /no GPU/);
  }
});

test('GPU workers are capped by the GPUs found; a missing cuda:N falls back to CPU', () => {
  assert.deepEqual(planDevice('gpu', 4, 2), { device: 'gpu', workers: 2 });
  assert.deepEqual(planDevice('cuda:1', 3, 2), { device: 'cuda:1', workers: 1 });
  assert.match(planDevice('cuda:2', 1, 2).warning ?? '', /only 2 GPU/);
  assert.deepEqual(planDevice('cpu', 8, 2), { device: 'cpu', workers: 8 });
});

test('device strings are checked', () => {
  assert.equal(parseDevice(' CUDA:1 '), 'cuda:1');
  assert.throws(() => parseDevice('tpu'), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
});
