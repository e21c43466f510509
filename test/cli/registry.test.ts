/**
 * Every registry command of `mm`, run as a real process on each store: JSON output for scripts,
 * tables for people, and failures as a non-zero exit with one line on stderr.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Registry, type StoreKind } from '../../src/index.js';
import { runMm, type MmRun } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CATALOGUE } from '../registry/samples.js';

function mm(args: string[], env: NodeJS.ProcessEnv): Promise<MmRun> {
  return runMm(args, { ...process.env, ...env });
}

/** Asserts a failure: the exit code, nothing on stdout, one line on stderr ending with the error code. */
function assertFails(run: MmRun, code: string, exit = 1): void {
  assert.equal(run.code, exit, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${run.stderr}`);
  assert.match(lines[0]!, new RegExp(`^mm: .+ \\[${code}\\]$`));
}

const ok = (run: MmRun): MmRun => {
  assert.equal(run.code, 0, `exit code; stderr: ${run.stderr}`);
  return run;
};
const json = <T = Record<string, unknown>>(run: MmRun): T => JSON.parse(ok(run).stdout) as T;

/** How each store is chosen: the default, the --store flag, and the MM_STORE variable. */
const SETUPS: { kind: StoreKind; file: string; flags: string[]; env: NodeJS.ProcessEnv }[] = [
  { kind: 'sqlite', file: 'registry.db', flags: [], env: {} },
  { kind: 'json', file: 'registry.json', flags: ['--store', 'json'], env: {} },
  { kind: 'duckdb', file: 'registry.duckdb', flags: [], env: { MM_STORE: 'duckdb' } },
];

describe('mm registry commands', { concurrency: true }, () => {
  for (const { kind, file, flags, env: storeEnv } of SETUPS) {
    describe(`on the ${kind} store`, { concurrency: 1 }, () => {
      const home = tempDir();
      const env = { ...storeEnv, MM_HOME: home.path, MM_DB: '' };
      const run = (...args: string[]) => mm([...args, ...flags], env);
      const catalogue = `${home.path}/catalogue.json`;
      before(() => writeFileSync(catalogue, JSON.stringify({ models: CATALOGUE })));
      after(() => home[Symbol.dispose]());

      it('add: all or none, in MM_HOME', async () => {
        assert.deepEqual(json(await run('add', catalogue, '--json')).added, CATALOGUE.map((m) => m.modelId));
        assert.ok(existsSync(`${home.path}/${file}`), `the store lives at MM_HOME/${file}`);
        assertFails(await run('add', catalogue), 'MODEL_EXISTS');
        assertFails(await run('add', `${home.path}/missing.json`), 'FILE_NOT_FOUND');
        const bad = `${home.path}/bad.json`;
        writeFileSync(bad, JSON.stringify([{ modelId: 'x/y', modelType: 'decoder_only', parameterCount: 'many' }]));
        const failed = await run('add', bad);
        assertFails(failed, 'INVALID_METADATA');
        assert.match(failed.stderr, /parameterCount/);
      });

      it('list: filters, JSON and table', async () => {
        const listed = json<{ count: number; total: number; models: { modelId: string }[] }>(
          await run('list', '--type', 'decoder_only', '--tag', 'llm', '--format', 'gguf,safetensors', '--limit', '2', '--json'));
        assert.deepEqual([listed.count, listed.total], [2, 4]);
        assert.deepEqual(listed.models.map((m) => m.modelId), ['deepseek/v3', 'meta/llama-70b']);
        const fits = json<{ models: { modelId: string }[] }>(await run('list', '--fits', '8GB', '--input', 'TEXT', '--json'));
        assert.deepEqual(fits.models.map((m) => m.modelId), ['google/bert-base', 'meta/llama-7b', 'mistralai/mistral-7b']);
        const table = ok(await run('list', '--min-params', '7B', '--max-params', '7.5B', '--sort', 'parameterCount', '--desc')).stdout.trimEnd().split('\n');
        assert.match(table[0]!, /^ID\s+TYPE\s+ARCH\s+FORMAT\s+PARAMS/);
        assert.deepEqual(table.slice(1).map((l) => l.split(/\s+/)[0]), ['mistralai/mistral-7b', 'meta/llama-7b']);
        assertFails(await run('list', '--sort', 'colour'), 'INVALID_ARGUMENT', 2);
        const none = ok(await run('list', '--attention', 'mqa'));
        assert.equal(none.stdout, '');
        assert.match(none.stderr, /no models match/);
      });

      it('show, search and stats', async () => {
        assert.equal(json(await run('show', 'meta/llama-7b', '--json')).architecture, 'LlamaForCausalLM');
        assert.match(ok(await run('show', 'meta/llama-7b')).stdout, /^architecture:\s+LlamaForCausalLM$/m);
        assertFails(await run('show', 'nobody/nothing'), 'MODEL_NOT_FOUND');
        const found = json<{ count: number; results: { modelId: string; score: number }[] }>(await run('search', 'llama', 'chat', '--json'));
        assert.deepEqual(found.results.map((r) => r.modelId), ['meta/llama-7b']);
        assert.ok(found.results[0]!.score > 0);
        assert.match(ok(await run('search', 'mixture')).stdout, /^deepseek\/v3\s/m);
        const searched = async (...text: string[]) => json<{ results: { modelId: string }[] }>(await run('search', ...text, '--json')).results.map((r) => r.modelId);
        assert.deepEqual(await searched('conditional'), ['openai/whisper'], 'a camel-case part of the architecture');
        assert.deepEqual(await searched('encoder'), ['google/bert-base'], 'the model type');
        const stats = json<{ totalModels: number; byFormat: Record<string, number> }>(await run('stats', '--json'));
        assert.equal(stats.totalModels, 8);
        assert.deepEqual(stats.byFormat, { gguf: 2, safetensors: 3, onnx: 1, pytorch: 1 });
        assert.match(ok(await run('stats')).stdout, /^models: 8\s/);
      });

      it('update, versions, rollback and metric', async () => {
        const updated = json<{ version: number; model: { description: string } }>(await run('update', 'meta/llama-7b', '{"description":"patched"}', '--json'));
        assert.deepEqual([updated.version, updated.model.description], [2, 'patched']);
        const patch = `${home.path}/patch.yaml`;
        writeFileSync(patch, 'context_length: 8192\n');
        assert.equal(json<{ model: { contextLength: number } }>(await run('update', 'meta/llama-7b', patch, '--json')).model.contextLength, 8192);
        const refused = await run('update', 'meta/llama-7b', '{"parameterCount":-1}');
        assertFails(refused, 'INVALID_METADATA');
        assert.match(refused.stderr, /parameterCount/);
        assertFails(await run('update', 'nobody/nothing', '{"description":"x"}'), 'MODEL_NOT_FOUND');

        const versions = json<{ versions: { version: number; change: string }[] }>(await run('versions', 'meta/llama-7b', '--json'));
        assert.deepEqual(versions.versions.map((v) => v.version), [1, 2, 3]);
        assert.match(ok(await run('versions', 'meta/llama-7b')).stdout, /^3 \(current\)/m);

        const rolled = json<{ version: number; model: { description: string } }>(await run('rollback', 'meta/llama-7b', '1', '--json'));
        assert.deepEqual([rolled.version, rolled.model.description], [4, 'a small llama for chat']);
        assertFails(await run('rollback', 'meta/llama-7b', '42'), 'VERSION_NOT_FOUND');
        assert.equal(json(await run('show', 'meta/llama-7b@2', '--json')).description, 'patched');

        const metric = json<{ qualityMetrics: { name: string; value: number; shots: number }[] }>(
          await run('metric', 'meta/llama-7b', 'MMLU', '0.625', '--shots', '5', '--json'));
        assert.deepEqual(metric.qualityMetrics.map((q) => [q.name, q.value, q.shots]), [['MMLU', 0.625, 5]]);
        const perf = json<{ performanceMetrics: Record<string, number> }>(await run('metric', 'meta/llama-7b', 'tokensPerSecond', '41.5', '--performance', '--json'));
        assert.deepEqual(perf.performanceMetrics, { tokensPerSecond: 41.5 });
        assert.match(ok(await run('show', 'meta/llama-7b')).stdout, /^MMLU\s+0\.625\s+5/m);
        assertFails(await run('metric', 'meta/llama-7b', 'MMLU', 'high'), 'INVALID_ARGUMENT', 2);
      });

      it('clear-cache: one model or all', async () => {
        {
          await using registry = await Registry.open({ store: kind, db: `${home.path}/${file}` });
          await registry.setCached('meta/llama-7b', 'estimate', 1);
          await registry.setCached('openai/clip', 'estimate', 2);
          await registry.setCached('openai/clip', 'other', 3);
        }
        assert.deepEqual(json(await run('clear-cache', 'meta/llama-7b', '--json')), { modelId: 'meta/llama-7b', removed: 1 });
        assert.match(ok(await run('clear-cache')).stdout, /^cleared 2 cached value\(s\)$/m);
        assert.deepEqual(json(await run('clear-cache', '--json')), { modelId: null, removed: 0 });
      });

      it('export and restore (also snake_case), remove --hard', async () => {
        const exported = `${home.path}/export.yaml`;
        assert.deepEqual(json(await run('export', exported, '--json')), { file: exported, count: 8 });
        assert.match(readFileSync(exported, 'utf8'), /^format: model-manager\/export$/m);
        assertFails(await run('export', exported, '--format', 'xml'), 'INVALID_ARGUMENT', 2);
        const copy = `${home.path}/copy-${file}`;
        const restored = json<{ added: string[] }>(await mm(['restore', exported, '--db', copy, '--json', ...flags], env));
        assert.equal(restored.added.length, 8);
        assert.equal(json(await mm(['stats', '--db', copy, '--json', ...flags], env)).totalModels, 8);
        const python = `${home.path}/python.json`;
        writeFileSync(python, JSON.stringify([{ model_id: 'py/model', model_type: 'LANGUAGE_MODEL', inputs: [{ name: 't', data_type: 'text' }] }]));
        assert.match(ok(await run('restore', python)).stdout, /^added 1, updated 0, unchanged 0$/m);
        assert.equal(json(await run('show', 'py/model', '--json')).modelType, 'language_model');
        assertFails(await run('restore', `${home.path}/missing.yaml`), 'FILE_NOT_FOUND');

        assert.match(ok(await run('delete', 'py/model', '--hard')).stdout, /^removed py\/model and its history$/m);
        assertFails(await run('versions', 'py/model'), 'MODEL_NOT_FOUND');
      });

      it('delete hides a model and keeps its history, rollback restores it; --hard removes it for good', async () => {
        const visible = async () => json<{ total: number; models: { modelId: string }[] }>(await run('list', '--json'));
        const before = await visible();
        assert.ok(before.models.some((m) => m.modelId === 'openai/clip'));
        const versions = json<{ versions: { version: number }[] }>(await run('versions', 'openai/clip', '--json')).versions.length;

        assert.deepEqual(json(await run('delete', 'openai/clip', '--json')), { removed: 'openai/clip', hard: false, restoreVersion: versions });
        const after = await visible();
        assert.equal(after.total, before.total - 1);
        assert.ok(!after.models.some((m) => m.modelId === 'openai/clip'), 'not listed');
        assertFails(await run('show', 'openai/clip'), 'MODEL_NOT_FOUND');
        assert.ok(!json<{ results: { modelId: string }[] }>(await run('search', 'clip', '--json')).results.some((r) => r.modelId === 'openai/clip'), 'not found by search');
        assert.equal(json<{ totalModels: number }>(await run('stats', '--json')).totalModels, before.total - 1);
        const next = after.models.findIndex((m) => m.modelId === 'openai/whisper');
        const paged = json<{ models: { modelId: string }[] }>(await run('list', '--limit', '1', '--offset', String(next), '--json'));
        assert.deepEqual(paged.models.map((m) => m.modelId), ['openai/whisper'], 'an offset counts only the models shown');
        assert.deepEqual(json<{ models: { modelId: string }[] }>(await run('list', '--deleted', '--json')).models.map((m) => m.modelId), ['openai/clip']);
        assertFails(await run('delete', 'openai/clip'), 'MODEL_NOT_FOUND');
        assertFails(await run('add', catalogue), 'MODEL_EXISTS');

        const history = json<{ deleted: boolean; versions: { version: number; change: string }[] }>(await run('versions', 'openai/clip', '--json'));
        assert.equal(history.deleted, true);
        assert.equal(history.versions.length, versions + 1, 'the delete is one more version; none is lost');
        assert.equal(history.versions.at(-1)!.change, 'delete');

        ok(await run('rollback', 'openai/clip', String(versions)));
        assert.equal(json(await run('show', 'openai/clip', '--json')).modelId, 'openai/clip', 'restored');
        assert.equal((await visible()).total, before.total);

        assert.deepEqual(json(await run('remove', 'openai/clip', '--hard', '--json')), { removed: 'openai/clip', hard: true });
        assertFails(await run('versions', 'openai/clip'), 'MODEL_NOT_FOUND');
        assert.deepEqual(json<{ models: unknown[] }>(await run('list', '--deleted', '--json')).models, []);
        assertFails(await run('remove', 'openai/clip'), 'MODEL_NOT_FOUND');
      });

      it('refuses a corrupt store file with one line', async () => {
        const corrupt = `${home.path}/corrupt-${file}`;
        writeFileSync(corrupt, 'not a registry at all\n'.repeat(200));
        const failed = await mm(['list', '--db', corrupt, ...flags], env);
        assertFails(failed, 'STORE_CORRUPT');
        assert.equal(readFileSync(corrupt, 'utf8'), 'not a registry at all\n'.repeat(200));
        const asJson = await mm(['list', '--db', corrupt, '--json', ...flags], env);
        assert.equal(asJson.code, 1);
        assert.equal((JSON.parse(asJson.stdout) as { error: { code: string } }).error.code, 'STORE_CORRUPT');
      });
    });
  }
});

describe('mm itself', () => {
  it('--version prints the package version; --help lists every command', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(ok(await mm(['--version'], {})).stdout, `${version}\n`);
    assert.equal(ok(await mm(['-V', '--json'], {})).stdout, `${version}\n`);
    const help = ok(await mm(['--help'], {})).stdout;
    for (const command of ['list', 'scan', 'discovery', 'validate', 'serve']) assert.match(help, new RegExp(`^  ${command}\\b`, 'm'));
  });
});
