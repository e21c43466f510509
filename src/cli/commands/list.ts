import { SORT_FIELDS, type ModelFilter, type ModelMetadata } from '../../registry/index.js';
import { formatBytes, formatCount } from '../../units.js';
import { withRegistry } from '../context.js';
import { choiceOption, countOption, listOption, sizeOption } from '../options.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

/** The list columns people read; shared with `mm search`. */
export function printModelTable(models: readonly ModelMetadata[]): void {
  printTable(
    ['ID', 'TYPE', 'ARCH', 'FORMAT', 'PARAMS', 'ATTN', 'MEMORY', 'TAGS'],
    models.map((m) => [
      m.modelId, m.modelType, m.architecture, m.format, formatCount(m.parameterCount), m.attentionType,
      formatBytes(m.memoryEstimate?.totalBytes), m.tags.join(','),
    ]),
  );
}

export function register(program: Program): void {
  const list = program
    .command('list')
    .description('list registered models, with filters (several values of one filter mean any of them; tags mean all)')
    .addOption(listOption('--type <type>', 'model type, e.g. decoder_only (repeatable)'))
    .addOption(listOption('--arch <architecture>', 'architecture, e.g. LlamaForCausalLM (repeatable)'))
    .addOption(listOption('--tag <tag>', 'tag the model must carry (repeatable: all of them)'))
    .addOption(listOption('--input <dataType>', 'input data type, e.g. TEXT (repeatable)'))
    .addOption(listOption('--output <dataType>', 'output data type, e.g. EMBEDDINGS (repeatable)'))
    .addOption(listOption('--attention <kind>', 'attention type: mha, gqa, mqa, mla (repeatable)'))
    .addOption(listOption('--format <format>', 'safetensors, pytorch, onnx, gguf, ggml (repeatable)'))
    .addOption(listOption('--source <source>', 'manual, huggingface, discovered, static (repeatable)'))
    .addOption(countOption('--min-params <n>', 'at least this many parameters (7B, 500M)', { example: '7B' }))
    .addOption(countOption('--max-params <n>', 'at most this many parameters', { example: '70B' }))
    .addOption(sizeOption('--fits <bytes>', 'estimated memory at most this (16GB, 8GiB)'))
    .addOption(countOption('--limit <n>', 'at most this many rows', { example: '20' }))
    .addOption(countOption('--offset <n>', 'skip this many rows', { example: '100' }))
    .addOption(choiceOption('--sort <field>', `sort by ${SORT_FIELDS.join(', ')}`, SORT_FIELDS))
    .option('--desc', 'sort descending')
    .option('--deleted', 'list deleted models instead (`mm rollback <id> <version>` restores one)');
  list.action(async () => {
    const o = list.optsWithGlobals();
    const filter: ModelFilter = {
      modelType: o.type, architecture: o.arch, tags: o.tag, inputType: o.input, outputType: o.output,
      attentionType: o.attention, format: o.format, source: o.source, minParams: o.minParams, maxParams: o.maxParams,
      fitsBytes: o.fits, limit: o.limit, offset: o.offset, sort: o.sort, order: o.desc ? 'desc' : 'asc',
    };
    await withRegistry(o, async (registry) => {
      const models = o.deleted ? await registry.listDeleted(filter) : await registry.listModels(filter);
      if (o.json) {
        const total = o.deleted ? (await registry.listDeleted({ ...filter, limit: undefined, offset: undefined })).length : await registry.countModels(filter);
        printJson({ count: models.length, total, models });
      } else if (models.length === 0) {
        process.stderr.write('no models match; `mm add`, `mm import` or `mm scan` register some\n');
      } else {
        printModelTable(models);
      }
    });
  });
}
