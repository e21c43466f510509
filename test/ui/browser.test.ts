/**
 * The web UI end to end in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
 * find a model, open its page, compare two models, and check a screenshot.
 * Set MM_UI_SCREENSHOTS=<dir> to keep the screenshots.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ApiKeys, ModelManager, Registry, createApiKey, createServer, writeTestModel } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';
import { model, startHarness } from '../server/harness.js';
import { decodePng } from './png.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MISSING = `${CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser test`;
/** CI installs Chromium (.ci/run): there a missing browser is a failure, not a skip that hides it. Elsewhere the tests are skipped without it. */
const UNDER_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const skip = existsSync(CHROMIUM) || UNDER_CI ? false : MISSING;

async function launch(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), MISSING);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

const models = [
  model('meta/llama-tiny', {
    displayName: 'Llama Tiny Chat', description: 'A small chat model for tests.', parameterCount: 1_100_000_000, attentionType: 'gqa', contextLength: 2048,
    tags: ['chat'], modalities: ['text'], qualityMetrics: [{ name: 'MMLU', value: 0.25, shots: 5 }],
    memoryEstimate: { weightsBytes: 2.2e9, kvCacheBytesPerToken: 22528, totalBytes: 2.4e9, context: 2048, batch: 1, dtype: 'f16', method: 'safetensors-header' },
    measured: { loadTimeMs: 840, memoryBytes: 2_600_000_000, throughput: 31.5, throughputUnit: 'tokens/s', device: 'cpu', at: '2026-11-01T10:00:00Z' },
  }),
  model('acme/mini-embedder', {
    modelType: 'embedding_model', format: 'onnx', parameterCount: 22_700_000, attentionType: 'mha', description: 'Sentence embeddings, 384 dimensions.',
    outputs: [{ name: 'embedding', dataType: 'EMBEDDINGS', shape: [null, 384] }],
    memoryEstimate: { weightsBytes: 9.1e7, kvCacheBytesPerToken: 0, totalBytes: 1.2e8, context: 512, batch: 1, dtype: 'f32', method: 'onnx-initializers' },
  }),
  model('acme/vision-base', { modelType: 'vision_model', format: 'safetensors', parameterCount: 86_000_000, modalities: ['image'], inputs: [{ name: 'pixels', dataType: 'IMAGE' }] }),
];

test('find a model, open it, compare two, and screenshot the UI', { skip, timeout: 120_000 }, async () => {
  await using h = await startHarness({}, models);
  await h.registry.updateModel('meta/llama-tiny', { description: 'A small chat model, now with a changed description.' });
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const keep = process.env.MM_UI_SCREENSHOTS;
  if (keep) mkdirSync(keep, { recursive: true });
  let browser: Browser | undefined;
  try {
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${address}/`);
    await page.waitForSelector('#model-table');
    assert.equal(await page.locator('#model-table tbody tr').count(), 3);
    await page.fill('input[name=q]', 'embeddings');
    await page.press('input[name=q]', 'Enter');
    await page.waitForSelector('#model-table tbody tr:only-child');
    assert.equal(await page.locator('#model-table .model-link').innerText(), 'acme/mini-embedder');

    await page.selectOption('select[name=format]', 'gguf');
    await page.waitForSelector('.card.empty');
    await page.goto(`${address}/#/models`);
    await page.waitForSelector('#model-table');

    await page.click('text=Llama Tiny Chat');
    await page.waitForSelector('.model-page h1');
    assert.equal(await page.locator('.model-page h1').innerText(), 'Llama Tiny Chat');
    assert.match(await page.locator('.model-page').innerText(), /MMLU/);
    assert.equal(await page.locator('.versions tbody tr').count(), 2);
    await page.click('.versions button:has-text("diff")');
    await page.waitForSelector('#version-diff td.ins');
    assert.match(await page.locator('#version-diff').innerText(), /description/);
    if (keep) await page.screenshot({ path: join(keep, 'model.png'), fullPage: true });

    await page.click('summary:has-text("Edit metadata")');
    await page.fill('input[name=displayName]', 'Llama Tiny (edited)');
    await page.fill('input[name=primary]', 'LANGUAGE');
    await page.fill('input[name=secondary]', 'CHAT');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('.model-page h1:has-text("Llama Tiny (edited)")');
    const edited = await h.registry.getModel('meta/llama-tiny');
    assert.deepEqual([edited?.displayName, edited?.category?.primary, edited?.category?.secondary], ['Llama Tiny (edited)', 'LANGUAGE', 'CHAT']);
    assert.equal(await page.locator('.versions tbody tr').count(), 4, 'metadata and category each made a version');

    await page.goto(`${address}/#/models`);
    await page.waitForSelector('#model-table');
    await page.check('input[aria-label="select meta/llama-tiny"]');
    await page.check('input[aria-label="select acme/mini-embedder"]');
    await page.click('button:has-text("Compare 2")');
    await page.waitForSelector('#compare-table');
    assert.equal(await page.locator('#compare-table thead th').count(), 3);
    assert.ok((await page.locator('#compare-table tr.differs').count()) > 3, 'differing rows are marked');

    const shot = await page.screenshot();
    if (keep) writeFileSync(join(keep, 'compare.png'), shot);
    const image = decodePng(shot);
    assert.equal(image.width, 1280);
    assert.equal(image.height, 900);
    const colours = new Set<string>();
    let inked = 0;
    let samples = 0;
    for (let y = 0; y < image.height; y += 7) {
      for (let x = 0; x < image.width; x += 7) {
        const [r, g, b] = image.pixel(x, y);
        colours.add(`${r >> 3},${g >> 3},${b >> 3}`);
        samples++;
        if (r + g + b < 600) inked++;
      }
    }
    assert.ok(colours.size > 20, `the screenshot has ${colours.size} colours: is it blank?`);
    assert.ok(inked / samples > 0.05, 'enough of the page is drawn');
    const [hr, hg, hb] = image.pixel(640, 10);
    assert.ok(hr < 40 && hg < 40 && hb < 60, 'the dark header is drawn: the stylesheet loaded');
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
  }
});

test('with API keys on, the UI asks for a key, keeps it, and shows only what the key may see', { skip, timeout: 60_000 }, async () => {
  const reader = createApiKey({ user: 'rita', role: 'reader' });
  const hidden = model('org/secret', { accessLevel: 'admin_only' });
  await using h = await startHarness({ auth: ApiKeys.fromRecords([reader.record]) }, [...models, hidden]);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  let browser: Browser | undefined;
  try {
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${address}/`);
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await page.locator('#banner').innerText(), /API key/);
    await page.fill('#api-key', reader.key);
    await page.click('#key-form button');
    await page.waitForSelector('#model-table');
    assert.equal(await page.locator('#model-table tbody tr').count(), 3, 'the admin-only model is not listed');
    await page.reload();
    await page.waitForSelector('#model-table');
    assert.equal(await page.evaluate('localStorage.getItem("mm.apiKey")'), reader.key);
  } finally {
    await browser?.close();
  }
});

test('a model generated here is found and run from its page (real runtime)', { skip, timeout: 120_000 }, async () => {
  using tmp = tempDir('mm-ui-run-');
  const written = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(tmp.path, 'models', 'tiny-embed') });
  await using registry = await Registry.open({ instance: await SqliteStore.open(join(tmp.path, 'registry.db')) });
  await registry.addModel(model('local/tiny-embed', {
    modelType: 'embedding_model', format: 'onnx', localPath: written.path, outputs: [{ name: 'embedding', dataType: 'EMBEDDINGS' }],
  }));
  const runtime = await ModelManager.create({ registry, modelRoots: [join(tmp.path, 'models')] });
  const app = await createServer({ registry, runtime, modelRoots: [join(tmp.path, 'models')] });
  let browser: Browser | undefined;
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${address}/#/models?q=tiny`);
    page.setDefaultTimeout(20_000);
    await page.click('#model-table .model-link');
    await page.waitForSelector('.model-page h1');
    await page.click('button:has-text("Test load")');
    await page.waitForSelector('#check-result:has-text("loaded and freed")');
    await page.click('button:has-text("Run")');
    await page.waitForSelector('#try-output:has-text("dimensions")');
    assert.match(await page.locator('#try-output').innerText(), /^\d+ dimensions in/);
    await page.goto(`${address}/#/running`);
    await page.waitForSelector('#ps-table');
    assert.match(await page.locator('#ps-table').innerText(), /local\/tiny-embed/);
    await page.click('#ps-table button:has-text("release")');
    await page.waitForSelector('text=No model is loaded');
  } finally {
    await browser?.close();
    await app.close();
    await runtime.shutdown();
  }
});
