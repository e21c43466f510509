/**
 * The model page's pull button in headless Chromium: a hub model registered without files is
 * pulled from the hub stand-in on 127.0.0.1, with progress, and the page then shows where it is.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ModelManager, Registry, createServer, importFromHuggingFace, loadConfig } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';
import { startHubServer } from '../hub/hub-server.js';
import { generatedModel, randomFile } from '../hub/pull-repos.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Under CI a missing browser is a failure, not a skip.
const skip = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `${CHROMIUM} is absent: install Debian's chromium to run the browser test`;

test('the model page pulls a hub model registered without files, and then shows its local path', { skip, timeout: 120_000 }, async () => {
  using tmp = tempDir();
  const files = await generatedModel(tmp.path, 'onnx', 'embedding');
  const hub = await startHubServer([{ id: 'acme/tiny-embed', sha: '5'.repeat(40), pipelineTag: 'feature-extraction', files: { ...files, 'onnx/model.onnx_data': randomFile(4 * 1024 * 1024) } }]);
  const config = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url });
  const registry = await Registry.open({ instance: await SqliteStore.open(join(tmp.path, 'registry.db')) });
  const runtime = await ModelManager.create({ registry, hubCache: config.hf.hubCache, pull: { config }, gpuCount: 0 });
  const app = await createServer({ registry, runtime });
  let browser: Browser | undefined;
  try {
    await importFromHuggingFace(registry, 'acme/tiny-embed', { config });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${address}/#/model/${encodeURIComponent('acme/tiny-embed')}`);
    await page.waitForSelector('#pull-button');
    assert.equal(await page.locator('#pull-button').innerText(), 'Pull from the hub');
    await page.click('#pull-button');
    await page.waitForSelector('#pull-button:has-text("Pull again")', { timeout: 60_000 });
    assert.match(await page.locator('.model-page').innerText(), /models--acme--tiny-embed\/snapshots\/5{40}\/onnx\/model\.onnx/);
    assert.equal((await registry.getModel('acme/tiny-embed'))?.revision, '5'.repeat(40));
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await app.close();
    await runtime.shutdown();
    await registry.close();
    await hub.close();
  }
});
