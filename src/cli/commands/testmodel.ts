import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes, formatCount } from '../../units.js';
import { TEST_MODEL_FORMATS, TEST_MODEL_SIZES, TEST_MODEL_TASKS, writeTestModel } from '../../testmodels/index.js';
import { choiceOption, countOption } from '../options.js';
import { printFields, printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const testmodel = program
    .command('testmodel')
    .description('write a real-format model with random weights (for tests and benchmarks); the folder is a model name every command accepts')
    .addOption(choiceOption('--format <format>', TEST_MODEL_FORMATS.join(' or '), TEST_MODEL_FORMATS).makeOptionMandatory())
    .addOption(choiceOption('--task <task>', `${TEST_MODEL_TASKS.join(', ')} (text2text: a T5 encoder-decoder, ONNX only)`, TEST_MODEL_TASKS).makeOptionMandatory())
    .requiredOption('--out <dir>', 'folder to write (created when missing)')
    .addOption(choiceOption('--size <size>', TEST_MODEL_SIZES.join(', '), TEST_MODEL_SIZES).default('tiny'))
    .addOption(countOption('--seed <n>', 'seed of the random weights (same seed, same bytes)', { max: 2 ** 32 - 1, example: '1' }).default(1));
  testmodel.action(async () => {
    const o = testmodel.optsWithGlobals();
    const { seed } = o;
    const started = performance.now();
    const info = await writeTestModel({
      format: o.format,
      task: o.task,
      size: o.size,
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
  });
}
