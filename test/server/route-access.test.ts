/**
 * The key check is decided by the route the router matched, never by how the URL is spelled:
 * percent-encoded, doubled or dotted spellings of protected paths need a key (or are 404), both
 * through app.inject() and as raw bytes on a real socket, where nothing normalises the path first.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, createApiKey } from '../../src/index.js';
import { uiRoot } from '../../src/server/ui-assets.js';
import { model, startHarness } from './harness.js';

const admin = createApiKey({ user: 'ada', role: 'admin' });
const auth = ApiKeys.fromRecords([admin.record]);
const models = [model('org/open'), model('adm/secret', { accessLevel: 'admin_only' })];

/** Spellings of protected paths; some reach a protected route, the others reach none. */
const SPELLINGS = [
  '/api/models', '/%61pi/models', '/%61%70%69/models', '/api/%6dodels', '/%61pi/%6D%6F%64%65%6C%73', '/API/models', '/Api/Models',
  '/api//models', '//api/models', '/%2Fapi/models', '/api%2Fmodels', '/%2561pi/models', '/./api/models', '/x/../api/models',
  '/..%2Fapi/models', '/%2e%2e/api/models', '/api/models.', '/api/models%2e', '/api/models%20', '/api/models;x', '/api./models',
  '/api/models/org%2Fopen', '/%61pi/models/org%2Fopen', '/%61pi/models/adm%2Fsecret', '/%61pi/models/adm%2Fsecret/versions',
  '/api/models/adm%2Fsecret', '/api/models/adm/secret', '/api/model%73/adm/secret', '/api/search?q=secret', '/api/%73earch?q=secret',
  '/api/stats', '/api/st%61ts', '/api/ps', '/api/p%73', '/api/models/discovery/statu%73', '/api/system/resource%73',
  '/v1/models', '/%761/models', '/%76%31/models', '/v%31/models', '/V1/models', '/v1//models', '/%761/models/adm%2Fsecret',
  '/metrics', '/%6detrics', '/%6D%65%74%72%69%63%73', '/metric%73', '/Metrics', '/metrics/', '/metrics.', '/%6detrics?x=1',
];

/** Paths anyone may fetch, however they are spelled (the route decides, so these stay open). */
const PUBLIC = ['/health', '/heal%74h', '/', '/%69ndex.html', '/docs/json', '/%64ocs/json'];

function rawRequest(address: string, method: string, path: string, key?: string): Promise<{ status: number; text: string }> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      const auth = key ? `Authorization: Bearer ${key}\r\n` : '';
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${auth}Connection: close\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.on('error', reject);
  });
}

test('every spelling of a protected path needs a key (app.inject)', async () => {
  await using h = await startHarness({ auth }, models);
  let routed = 0;
  for (const url of SPELLINGS) {
    const withKey = await h.app.inject({ url, headers: { authorization: `Bearer ${admin.key}` } });
    const reachesRoute = !(withKey.statusCode === 404 && withKey.json().error.code === 'NOT_FOUND');
    if (reachesRoute) routed += 1;
    for (const method of ['GET', 'HEAD'] as const) {
      const without = await h.app.inject({ method, url });
      const why = reachesRoute ? `reaches a route (${withKey.statusCode} with a key), so needs a key` : 'reaches no route';
      assert.equal(without.statusCode, reachesRoute ? 401 : 404, `${method} ${url} ${why}`);
      assert.ok(!without.body.includes('org/open') && !without.body.includes('mm_http_requests_total'), `${url} leaks nothing`);
    }
  }
  assert.ok(routed >= 30, `most spellings reach a route (${routed}), so the check above is not empty`);
  for (const url of ['/%61pi/models', '/%761/models', '/%6detrics']) {
    assert.equal((await h.app.inject({ url, headers: { authorization: `Bearer ${admin.key}` } })).statusCode, 200, `${url} is routed`);
    assert.equal((await h.app.inject(url)).json().error.code, 'UNAUTHORIZED');
  }
  for (const url of PUBLIC) assert.equal((await h.app.inject(url)).statusCode, 200, `${url} is public`);
});

test('every spelling of a protected path needs a key over a real socket, written as is', async () => {
  await using h = await startHarness({ auth }, models);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  let routed = 0;
  for (const path of [...SPELLINGS, 'http://127.0.0.1/%61pi/models']) {
    const withKey = await rawRequest(address, 'GET', path, admin.key);
    const reachesRoute = !(withKey.status === 404 && withKey.text.includes('"NOT_FOUND"'));
    if (reachesRoute) routed += 1;
    for (const method of ['GET', 'HEAD']) {
      const without = await rawRequest(address, method, path);
      const why = reachesRoute ? `reaches a route (${withKey.status} with a key), so needs a key` : 'reaches no route';
      assert.equal(without.status, reachesRoute ? 401 : 404, `${method} ${path} ${why}`);
      assert.ok(!without.text.includes('org/open') && !without.text.includes('mm_http_requests_total'), `${path} leaks nothing`);
    }
  }
  assert.ok(routed >= 30, `most spellings reach a route (${routed})`);
  for (const path of ['/%61pi/models', '/%761/models', '/%6detrics', '/%61pi/models/adm%2Fsecret']) {
    assert.equal((await rawRequest(address, 'GET', path, admin.key)).status, 200, `${path} is routed`);
  }
  for (const path of PUBLIC) assert.equal((await rawRequest(address, 'GET', path)).status, 200, `${path} is public`);
});

test('a spelled-differently path is rate limited like the path itself; public routes never are', async () => {
  await using h = await startHarness({ auth, rateLimit: { max: 2, windowMs: 60_000 } }, models);
  const as = { authorization: `Bearer ${admin.key}` };
  assert.equal((await h.app.inject({ url: '/api/models', headers: as })).statusCode, 200);
  assert.equal((await h.app.inject({ url: '/%61pi/models', headers: as })).statusCode, 200);
  const limited = await h.app.inject({ url: '/%761/models', headers: as });
  assert.equal(limited.statusCode, 429, 'the third call of the minute, however spelled, is refused');
  assert.equal(limited.json().error.code, 'RATE_LIMITED');
  for (let i = 0; i < 3; i++) assert.equal((await h.app.inject('/heal%74h')).statusCode, 200, 'health is never limited');
});

test('with keys on, every file of the web UI still loads without one (the UI asks for the key itself)', async () => {
  await using h = await startHarness({ auth }, models);
  const files = readdirSync(uiRoot(), { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => relative(uiRoot(), join(f.parentPath, f.name)).split(sep).join('/'));
  assert.ok(files.length >= 5 && files.includes('app.js'), `the UI files are found (${files.join(', ')})`);
  for (const file of files) assert.equal((await h.app.inject(`/${file}`)).statusCode, 200, file);
});

test('the UI content policy follows the route: the UI gets it however spelled, the docs page never', async () => {
  await using h = await startHarness({ auth }, models);
  for (const url of ['/', '/index.html', '/%69ndex.html']) {
    assert.match(String((await h.app.inject(url)).headers['content-security-policy']), /default-src 'self'/, url);
  }
  for (const url of ['/docs', '/%64ocs']) {
    const page = await h.app.inject(url);
    assert.equal(page.statusCode, 200, url);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.equal(page.headers['content-security-policy'], undefined, `${url}: the docs viewer runs its own scripts`);
  }
});
