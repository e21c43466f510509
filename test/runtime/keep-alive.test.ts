import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import { keepAliveMinutes, parseKeepAlive } from '../../src/runtime/keep-alive.js';

test('keepAlive numbers are minutes, strings are durations, 0 frees at once, -1 keeps', () => {
  assert.equal(parseKeepAlive(5), 300_000);
  assert.equal(parseKeepAlive('30s'), 30_000);
  assert.equal(parseKeepAlive('5m'), 300_000);
  assert.equal(parseKeepAlive('1h'), 3_600_000);
  assert.equal(parseKeepAlive('250ms'), 250);
  assert.equal(parseKeepAlive('2'), 120_000);
  assert.equal(parseKeepAlive(0), 0);
  assert.equal(parseKeepAlive(-1), Infinity);
  assert.equal(parseKeepAlive('-1'), Infinity);
  assert.equal(keepAliveMinutes(Infinity), -1);
  assert.equal(keepAliveMinutes(90_000), 1.5);
});

test('a keepAlive that is not a duration is refused with a hint', () => {
  for (const bad of ['soon', '5 days', Number.NaN]) {
    assert.throws(() => parseKeepAlive(bad), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /30s/.test(e.message));
  }
});
