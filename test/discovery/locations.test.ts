/**
 * Two hosts scanning their own folders into one PostgreSQL registry: the same model found on both
 * is one entry with a location per host; a scan on one host never marks the other's copy missing;
 * the runtime of each host loads its own copy; `mm show` lists them all.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry, resolveModel, writeTestModel, type ModelMetadata } from '../../src/index.js';
import { postgresSkip, schemaUrl } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const skip = await postgresSkip();
const MM = fileURLToPath(new URL('../../../bin/mm.js', import.meta.url));

/** `mm` as host `host` runs it: its own MM_HOME and MM_HOST_ID, the shared registry. */
function mmOn(host: string, base: string, db: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [MM, '--db', db, ...args], {
    encoding: 'utf8', cwd: base,
    env: { ...process.env, MM_HOME: join(base, host), MM_HOST_ID: host, HF_HUB_CACHE: join(base, 'no-hf'), OLLAMA_MODELS: join(base, 'no-ollama'), LMSTUDIO_MODELS: join(base, 'no-lms'), HF_HUB_OFFLINE: '1' },
  });
}

function scanOn(host: string, base: string, db: string, root: string): { counts: { added: number; updated: number; missing: number }; modelIds: string[] } {
  const run = mmOn(host, base, db, '--json', 'scan', root);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { counts: { added: number; updated: number; missing: number }; modelIds: string[] };
}

describe('one registry, two hosts', { skip }, () => {
  it('keeps one entry per model with a location per host, and each scan judges only its own host\'s copies', { timeout: 120_000 }, async () => {
    using base = tempDir();
    const db = schemaUrl('two-hosts');
    // The same model (same files, same folder name) on two machines, in folders of their own.
    const onA = (await writeTestModel({ format: 'gguf', task: 'embedding', out: join(base.path, 'a-disk', 'models', 'tiny-bert') })).path;
    const onB = (await writeTestModel({ format: 'gguf', task: 'embedding', out: join(base.path, 'b-disk', 'store', 'tiny-bert') })).path;

    const a = scanOn('host-a', base.path, db, join(base.path, 'a-disk', 'models'));
    const b = scanOn('host-b', base.path, db, join(base.path, 'b-disk', 'store'));
    assert.equal(a.counts.added, 1);
    assert.deepEqual([b.counts.added, b.counts.updated], [0, 1], 'host b found the model host a registered');
    assert.deepEqual(b.modelIds, a.modelIds);
    const id = a.modelIds[0]!;

    const read = async (): Promise<ModelMetadata[]> => {
      await using registry = await Registry.open({ db });
      return await registry.listModels();
    };
    let [model] = await read();
    assert.equal((await read()).length, 1);
    assert.deepEqual(model!.locations!.map((l) => [l.host, l.path, l.files.length > 0]), [['host-a', onA, true], ['host-b', onB, true]]);
    assert.equal(model!.localPath, onA, 'localPath stays with the copy that was found first');

    // Each host's runtime loads its own copy.
    await using registry = await Registry.open({ db });
    assert.equal((await resolveModel(id, { registry, hostId: 'host-a' })).path, onA);
    assert.equal((await resolveModel(id, { registry, hostId: 'host-b' })).path, onB);

    // `mm show` lists both copies.
    const show = mmOn('host-a', base.path, db, 'show', id);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /locations:\n.*HOST.*\n.*host-a\s+\S*a-disk.*\n.*host-b\s+\S*b-disk/);

    // Rescans change nothing: no new version per scan and host.
    const versions = (await registry.listVersions(id)).length;
    scanOn('host-a', base.path, db, join(base.path, 'a-disk', 'models'));
    scanOn('host-b', base.path, db, join(base.path, 'b-disk', 'store'));
    assert.equal((await registry.listVersions(id)).length, versions);

    // B's copy goes. A scan on A does not notice it (not its copy); B's own scan drops it, and the model stays available.
    rmSync(onB, { recursive: true });
    assert.equal(scanOn('host-a', base.path, db, join(base.path, 'a-disk', 'models')).counts.missing, 0);
    assert.deepEqual((await registry.getModel(id))!.locations!.map((l) => l.host), ['host-a', 'host-b']);
    assert.equal(scanOn('host-b', base.path, db, join(base.path, 'b-disk', 'store')).counts.missing, 0);
    [model] = await read();
    assert.deepEqual(model!.locations!.map((l) => l.host), ['host-a']);
    assert.notEqual(model!.status, 'missing');

    // A's copy goes too: nothing is left anywhere, and the model is missing.
    rmSync(onA, { recursive: true });
    assert.equal(scanOn('host-a', base.path, db, join(base.path, 'a-disk', 'models')).counts.missing, 1);
    [model] = await read();
    assert.equal(model!.status, 'missing');
    assert.deepEqual(model!.locations, []);
  });

  it('knows the same weights under another name on another host by their sha256s', { timeout: 120_000 }, async () => {
    using base = tempDir();
    const db = schemaUrl('same-weights');
    const { path, files } = await writeTestModel({ format: 'gguf', task: 'embedding', out: join(base.path, 'written') });
    const blob = readFileSync(join(path, files.find((f) => f.endsWith('.gguf'))!));
    const digest = createHash('sha256').update(blob).digest('hex');
    // Ollama stores on two machines: the same blob, tagged tiny:latest on A and other:v1 on B.
    const store = (host: string, name: string, tag: string) => {
      const dir = join(base.path, host, 'ollama');
      mkdirSync(join(dir, 'blobs'), { recursive: true });
      writeFileSync(join(dir, 'blobs', `sha256-${digest}`), blob);
      mkdirSync(join(dir, 'manifests', 'registry.ollama.ai', 'library', name), { recursive: true });
      writeFileSync(join(dir, 'manifests', 'registry.ollama.ai', 'library', name, tag), JSON.stringify({ layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}` }] }));
      return dir;
    };
    const a = scanOn('host-a', base.path, db, store('a', 'tiny', 'latest'));
    const b = scanOn('host-b', base.path, db, store('b', 'other', 'v1'));
    assert.deepEqual([a.modelIds, b.modelIds, b.counts.added], [['ollama/tiny:latest'], ['ollama/tiny:latest'], 0]);
    await using registry = await Registry.open({ db });
    const models = await registry.listModels();
    assert.deepEqual(models.map((m) => [m.modelId, m.locations?.map((l) => l.host)]), [['ollama/tiny:latest', ['host-a', 'host-b']]]);
  });

  it('moves localPath to a copy that remains when the first one goes', { timeout: 120_000 }, async () => {
    using base = tempDir();
    const db = schemaUrl('first-copy-gone');
    const onA = (await writeTestModel({ format: 'gguf', task: 'embedding', out: join(base.path, 'a', 'tiny-bert') })).path;
    const onB = (await writeTestModel({ format: 'gguf', task: 'embedding', out: join(base.path, 'b', 'tiny-bert') })).path;
    const id = scanOn('host-a', base.path, db, join(base.path, 'a')).modelIds[0]!;
    scanOn('host-b', base.path, db, join(base.path, 'b'));
    rmSync(onA, { recursive: true });
    assert.equal(scanOn('host-a', base.path, db, join(base.path, 'a')).counts.missing, 0);
    await using registry = await Registry.open({ db });
    const model = await registry.getModel(id);
    assert.deepEqual([model?.localPath, model?.locations?.map((l) => l.host), model?.status], [onB, ['host-b'], 'available']);
  });
});
