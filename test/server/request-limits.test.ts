/**
 * Requests past the server's limits get the error shape with a stable code, never a 500 or a bare
 * Node answer: bodies nested thousands deep, request lines over Node's header limit, long ids.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeTestModel } from '../../src/index.js';
import { model, startHarness, startHarnessWithDiscovery } from './harness.js';

/** `{"a":{"a":...1...}}`, `depth` objects deep. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

function rawRequest(address: string, head: string): Promise<string> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => socket.write(head));
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

test('a body nested thousands deep is a 400 with a code, and nothing is stored', async () => {
  await using h = await startHarnessWithDiscovery({}, [model('org/open')]);
  const folder = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.modelsDir, 'tiny') });
  const send = (method: 'POST' | 'PUT', url: string, payload: string) =>
    h.app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload });
  for (const depth of [100, 10_000]) {
    for (const field of ['custom', 'huggingfaceConfig']) {
      const answers = [
        await send('POST', '/api/models', `{"modelId":"org/deep","modelType":"decoder_only","${field}":${nested(depth)}}`),
        await send('PUT', '/api/models/org/open', `{"${field}":${nested(depth)}}`),
        await send('PUT', '/api/models/org/open/metadata', `{"${field}":${nested(depth)}}`),
        await send('POST', '/api/models/metadata/bulk-update', `{"updates":[{"modelId":"org/open","metadata":{"${field}":${nested(depth)}}}]}`),
        await send('POST', '/api/models/register', `{"path":${JSON.stringify(folder.path)},"metadata":{"${field}":${nested(depth)}}}`),
      ];
      for (const res of answers) {
        assert.equal(res.statusCode, 400, `${depth} deep ${field}: ${res.body.slice(0, 200)}`);
        assert.equal(res.json().error.code, 'INVALID_ARGUMENT');
        assert.match(res.json().error.message, /nested more than 64 levels/);
      }
    }
  }
  assert.deepEqual((await h.registry.listModels()).map((m) => m.modelId), ['org/open'], 'nothing was added');
  assert.equal((await h.registry.listVersions('org/open')).length, 1, 'nothing was updated');
  const fine = await send('PUT', '/api/models/org/open', `{"custom":${nested(30)}}`);
  assert.equal(fine.statusCode, 200, 'real configs nest far less deeply, and pass');
});

test('a request line over Node\'s header limit gets the error shape with its own code', async () => {
  await using h = await startHarness({}, [model('org/open')]);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const answer = await rawRequest(address, `GET /api/models?tag=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 431 /);
  assert.match(answer, /content-type: application\/json/i);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'HEADERS_TOO_LARGE');
  const viaFetch = await fetch(`${address}/api/models?tag=${'x'.repeat(20_000)}`);
  assert.equal(viaFetch.status, 431);
  assert.equal(((await viaFetch.json()) as { error: { code: string } }).error.code, 'HEADERS_TOO_LARGE');
  const garbage = await rawRequest(address, 'NOT HTTP AT ALL\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 /);
  assert.equal((JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
  assert.equal((await fetch(`${address}/api/models`)).status, 200, 'the server goes on serving');
});

test('the longest model ids are routed, raw and percent-encoded', async () => {
  const id = `org/${'a'.repeat(240)}/${'b'.repeat(8)}`;
  await using h = await startHarness({}, [model(id)]);
  for (const url of [`/api/models/${id}`, `/api/models/${encodeURIComponent(id)}`, `/api/models/${encodeURIComponent(id)}/versions`, `/api/models/${id}/metrics`]) {
    const res = await h.app.inject(url);
    assert.equal(res.statusCode, 200, `${url.slice(0, 40)}...: ${res.body.slice(0, 120)}`);
  }
  const hexEncoded = [...id].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
  assert.equal((await h.app.inject(`/api/models/${hexEncoded}`)).json().modelId, id, 'every character percent-encoded');
});
