/**
 * Faults over a real socket on 127.0.0.1: a client vanishing mid-upload or mid-answer,
 * a malformed body and an oversized one, each harmless to the requests around it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { model, startHarness } from './harness.js';

function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address);
  return { host: url.hostname, port: Number(url.port) };
}

/** Sends raw bytes and returns what the server answered (or '' when it closed first). */
function raw(address: string, text: string, { destroyAfterWrite = false } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(hostPort(address), () => {
      socket.write(text);
      if (destroyAfterWrite) {
        socket.destroy();
        resolve('');
      }
    });
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

test('a client that disconnects mid-upload harms nobody else', async () => {
  await using h = await startHarness({}, [model('org/a')]);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const body = JSON.stringify(model('org/half'));
  const partial = `POST /api/models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`;
  await Promise.all(Array.from({ length: 5 }, () => raw(address, partial, { destroyAfterWrite: true })));
  const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${address}/api/models`).then((r) => r.status)));
  assert.deepEqual(answers, Array(10).fill(200));
  assert.equal(await h.registry.getModel('org/half'), undefined, 'a half-sent model is not added');
  const metrics = await (await fetch(`${address}/metrics`)).text();
  assert.match(metrics, /^mm_http_requests_total\{method="POST",route="\/api\/models",status="499"\} [1-5]$/m);
  assert.match(metrics, /^mm_http_requests_in_flight 1$/m, 'hung-up requests are not left counted as in flight');
  const add = await fetch(`${address}/api/models`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(add.status, 201);
});

test('a client that disconnects while the answer is written harms nobody else', async () => {
  const many = Array.from({ length: 300 }, (_, i) => model(`org/m${String(i).padStart(3, '0')}`, { description: 'x'.repeat(400) }));
  await using h = await startHarness({ rateLimit: false }, many);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const request = 'GET /api/models HTTP/1.1\r\nHost: x\r\n\r\n';
  await Promise.all(Array.from({ length: 10 }, () => raw(address, request, { destroyAfterWrite: true })));
  const res = await fetch(`${address}/api/models?limit=5`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { total: number }).total, 300);
});

test('malformed and oversized bodies are refused with the error shape, over a real socket', async () => {
  await using h = await startHarness({ bodyLimit: 4096 }, [model('org/a')]);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const post = (body: string, type = 'application/json') => fetch(`${address}/api/models`, { method: 'POST', headers: { 'content-type': type }, body });
  const malformed = await post('{"modelId": "org/x", ');
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
  const notJson = await post('modelId=org/x', 'text/plain');
  assert.equal(notJson.status, 400);
  const big = await post(JSON.stringify(model('org/big', { description: 'x'.repeat(10_000) })));
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
  // a lying Content-Length far above the limit is refused before the body is read
  const lying = await raw(address, `POST /api/models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n{`);
  assert.match(lying, /^HTTP\/1\.1 413/);
  assert.equal((await fetch(`${address}/api/models`)).status, 200);
});
