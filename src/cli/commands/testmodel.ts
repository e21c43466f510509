import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { formatBytes, formatCount } from '../../units.js';
import {
  TEST_MODEL_FORMATS, TEST_MODEL_SIZES, TEST_MODEL_TASKS, writeTestModel, type TestModelFormat, type TestModelSize, type TestModelTask,
} from '../../testmodels/index.js';
import { action, optionsOf } from '../context.js';
import { printFields, printJson } from '../output.js';

interface TestModelOptions {
  format: string;
  task: string;
  out: string;
  size: string;
  seed: string;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ModelManagerError('INVALID_ARGUMENT', `--${what} must be one of ${allowed.join(', ')}, got "${value}"`);
}

export function register(program: Command): void {
  program
    .command('testmodel')
    .description('write a real-format model with random weights (for tests and benchmarks); the folder is a model name every command accepts')
    .requiredOption('--format <format>', TEST_MODEL_FORMATS.join(' or '))
    .requiredOption('--task <task>', `${TEST_MODEL_TASKS.join(', ')} (text2text: a T5 encoder-decoder, ONNX only)`)
    .requiredOption('--out <dir>', 'folder to write (created when missing)')
    .option('--size <size>', `${TEST_MODEL_SIZES.join(', ')}`, 'tiny')
    .option('--seed <n>', 'seed of the random weights (same seed, same bytes)', '1')
    .action(
      action(async (command) => {
        const o = optionsOf<TestModelOptions>(command);
        const seed = Number(o.seed);
        if (!Number.isInteger(seed) || seed < 0) throw new ModelManagerError('INVALID_ARGUMENT', `--seed must be a whole number of 0 or more, got "${o.seed}"`);
        const started = performance.now();
        const info = await writeTestModel({
          format: oneOf<TestModelFormat>(o.format, TEST_MODEL_FORMATS, 'format'),
          task: oneOf<TestModelTask>(o.task, TEST_MODEL_TASKS, 'task'),
          size: oneOf<TestModelSize>(o.size, TEST_MODEL_SIZES, 'size'),
          out: o.out,
          seed,
        });
        const sizes = await Promise.all(info.files.map((f) => stat(join(info.path, f)).then((s) => s.size)));
        const bytes = sizes.reduce((a, b) => a + b, 0);
        if (o.json) return printJson({ ...info, seed, bytes });
        printFields([
          ['path', info.path], ['format', info.format], ['task', info.task], ['size', info.size], ['seed', seed],
          ['parameters', `${formatCount(info.parameterCount)} (${info.parameterCount})`], ['bytes', formatBytes(bytes)],
          ['files', info.files.join(', ')], ['written in', `${(performance.now() - started).toFixed(0)} ms`],
        ]);
      }),
    );
}
