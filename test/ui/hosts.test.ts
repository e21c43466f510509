/**
 * The web UI over a PostgreSQL registry two servers share, in headless Chromium: the Hosts page
 * shows each host with its devices, memory and loaded models, and the model list shows a model
 * another server adds without a reload (server-sent events from LISTEN/NOTIFY).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ClusterMembership, ModelManager, Registry, createServer, describeHost, loadedModels, writeTestModel } from '../../src/index.js';
import { postgresSkip, schemaUrl } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { model } from '../server/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const pgSkip = await postgresSkip();
const skip = pgSkip || (existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser test`);

describe('the UI of a shared registry', { skip }, () => {
  it('lists the hosts with their loaded models, and shows what another server adds without a reload', { timeout: 120_000 }, async () => {
    using tmp = tempDir('mm-ui-hosts-');
    const db = schemaUrl('ui-hosts');
    const models = join(tmp.path, 'models');
    const written = await writeTestModel({ format: 'gguf', task: 'embedding', out: join(models, 'tiny-embed') });
    await using registry = await Registry.open({ db });
    await registry.addModel(model('team/tiny-embed', { modelType: 'embedding_model', localPath: written.path, outputs: [{ name: 'e', dataType: 'EMBEDDINGS' }] }));
    const runtime = await ModelManager.create({ registry, modelRoots: [models], gpuCount: 0 });
    const app = await createServer({ registry, runtime, modelRoots: [models], hostId: 'gpu-box-1' });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const here = await ClusterMembership.join({
      cluster: registry.store.cluster!, hostId: 'gpu-box-1', url: address, describe: () => describeHost(runtime), loaded: () => loadedModels(runtime), heartbeatMs: 200,
    });
    // Another server on the same registry, with nothing loaded.
    await using other = await Registry.open({ db });
    const there = await ClusterMembership.join({ cluster: other.store.cluster!, hostId: 'gpu-box-2', url: 'http://10.0.0.2:8080', describe: () => describeHost() });
    let browser: Browser | undefined;
    try {
      const preload = await runtime.task({ taskData: null, taskType: 'embedding', modelName: 'team/tiny-embed', keepAlive: -1 });
      assert.ok(preload.success);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(20_000);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));

      await page.goto(`${address}/`);
      await page.click('nav a:has-text("Hosts")');
      await page.waitForSelector('.host[data-host="gpu-box-1"] table.loaded');
      assert.match(await page.locator('.hosts-page .page-head p').first().innerText(), /2 of 2 servers live/);
      const one = await page.locator('.host[data-host="gpu-box-1"]').innerText();
      assert.match(one, /live/);
      assert.match(one, /this host/);
      assert.match(one, /cpu/i);
      assert.match(one, /tiny-embed/);
      assert.match(await page.locator('.host[data-host="gpu-box-2"]').innerText(), /No model loaded/);

      await page.click('nav a:has-text("Models")');
      await page.waitForSelector('#model-table');
      assert.equal(await page.locator('#model-table tbody tr').count(), 1);
      await other.addModel(model('team/added-elsewhere'));
      await page.waitForSelector('#model-table a:has-text("team/added-elsewhere")');
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
      await there.leave();
      await here.leave();
      await app.close();
      await runtime.shutdown();
    }
  });
});
