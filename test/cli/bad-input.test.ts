/**
 * Bad input on the command line: every option value is checked when it is read, and a bad one is
 * one line on stderr naming the option and what it takes (a JSON error with --json), never a stack.
 * And a reader that goes away (`mm stats | head -1`) ends the output, not the command.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runMm, type MmRun } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';

const home = tempDir();
after(() => home[Symbol.dispose]());

/** Runs `mm` in its own MM_HOME; `closeStdout` closes our end of its stdout before it writes anything. */
function mm(args: string[], { closeStdout = false } = {}): Promise<MmRun> {
  return runMm(args, { ...process.env, MM_HOME: home.path, MM_DB: '', MM_STORE: '' }, { timeoutMs: 60_000, closeStdout });
}

/** Each bad value of the issue, the option the message must name, and the hint it must give. */
const CASES: { args: string[]; option: string; hint: RegExp }[] = [
  { args: ['list', '--min-params', '7Q'], option: '--min-params', hint: /7B/ },
  { args: ['list', '--max-params', '-70B'], option: '--max-params', hint: /whole number/ },
  { args: ['list', '--fits', '16XB'], option: '--fits', hint: /16GB/ },
  { args: ['list', '--fits', '-5GB'], option: '--fits', hint: /size/ },
  { args: ['list', '--limit', '-1'], option: '--limit', hint: /whole number of 0 or more/ },
  { args: ['list', '--limit', '1.5'], option: '--limit', hint: /whole number/ },
  { args: ['list', '--sort', 'size'], option: '--sort', hint: /parameterCount/ },
  { args: ['search', 'llama', '--limit', '0'], option: '--limit', hint: /1 or more/ },
  { args: ['estimate', 'org/model', '--context', '8Q'], option: '--context', hint: /8K/ },
  { args: ['estimate', 'org/model', '--context', '0'], option: '--context', hint: /tokens of 1 or more/ },
  { args: ['estimate', 'org/model', '--batch', '0'], option: '--batch', hint: /1 or more/ },
  { args: ['estimate', 'org/model', '--dtype', 'constructor'], option: '--dtype', hint: /q4_k_m/ },
  { args: ['metric', 'org/model', 'MMLU', '0.6', '--shots', 'x'], option: '--shots', hint: /whole number from 0 to 1000, e\.g\. 5\b/ },
  { args: ['serve', '--memory-budget', '16XB'], option: '--memory-budget', hint: /16GB/ },
  { args: ['serve', '--port', '99999'], option: '--port', hint: /0 to 65535/ },
  { args: ['serve', '--keep-alive', 'soon'], option: '--keep-alive', hint: /5m/ },
  { args: ['generate', 'org/model', 'hi', '--max-tokens', '0'], option: '--max-tokens', hint: /1 or more/ },
  { args: ['generate', 'org/model', 'hi', '--device', 'tpu'], option: '--device', hint: /cuda:N/ },
  { args: ['testmodel', '--format', 'tflite', '--task', 'embedding', '--out', 'x'], option: '--format', hint: /gguf, onnx/ },
  { args: ['--store', 'mongo', 'list'], option: '--store', hint: /sqlite, json, duckdb/ },
];

/** One line on stderr, `mm: <message> [INVALID_ARGUMENT]`, exit 2 and no stack. */
function assertRefused(run: MmRun, message: RegExp): void {
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^mm: .+ \[INVALID_ARGUMENT\]$/);
  assert.match(lines[0]!, message);
}

describe('a bad option value is one coded line naming the option, never a stack', { concurrency: 4 }, () => {
  for (const { args, option, hint } of CASES) {
    it(`mm ${args.join(' ')}`, async () => {
      const run = await mm(args);
      assertRefused(run, new RegExp(`^mm: ${option}\\b`));
      assert.match(run.stderr, hint);
      assert.equal(run.stdout, '');
      const json = await mm([...args, '--json']);
      assertRefused(json, new RegExp(option));
      const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string; details: { option: string; value: string } } };
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.equal(error.details.option, option);
      assert.equal(error.details.value, args[args.indexOf(option) + 1]);
    });
  }

  it('a shot count is not hinted with parameter counts', async () => {
    const run = await mm(['metric', 'org/model', 'MMLU', '0.6', '--shots', 'x']);
    assert.doesNotMatch(run.stderr, /7B|500M|16GB/);
  });

  it('usage errors (unknown option or command, missing argument) are INVALID_ARGUMENT too, also with --json', async () => {
    assertRefused(await mm(['list', '--bogus']), /unknown option '--bogus'/);
    assertRefused(await mm(['frobnicate']), /unknown command 'frobnicate'/);
    assertRefused(await mm(['show']), /missing required argument 'id'/);
    const json = await mm(['show', '--json']);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
  });

  it('help and the version are no failure', async () => {
    const help = await mm(['list', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--min-params <n>/);
    assert.equal((await mm(['--version'])).code, 0);
  });

  it('good values are read as people write them', async () => {
    const file = join(home.path, 'models.json');
    writeFileSync(file, JSON.stringify([1, 2, 3].map((n) => ({ modelId: `org/m${n}`, modelType: 'decoder_only', parameterCount: n * 1e9 }))));
    assert.equal((await mm(['add', file])).code, 0);
    const list = JSON.parse((await mm(['list', '--min-params', '1.5B', '--limit', '1', '--json'])).stdout) as { count: number; total: number; models: { modelId: string }[] };
    assert.deepEqual([list.count, list.total, list.models[0]!.modelId], [1, 2, 'org/m2']);
  });
});

describe('a reader that goes away ends the output quietly', () => {
  it('mm stats and mm list --json into a closed pipe exit 0 without a word on stderr', async () => {
    for (const args of [['stats'], ['list', '--json'], ['--version']]) {
      const run = await mm(args, { closeStdout: true });
      assert.equal(run.stderr, '', `mm ${args.join(' ')}: nothing on stderr`);
      assert.equal(run.code, 0, `mm ${args.join(' ')}: exit code`);
    }
  });
});
