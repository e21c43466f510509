import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { SORT_FIELDS, type ModelFilter, type ModelMetadata, type SortField } from '../../registry/index.js';
import { formatBytes, formatCount } from '../../units.js';
import { action, collect, optionsOf, quantity, withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';

interface ListOptions {
  type?: string[];
  arch?: string[];
  tag?: string[];
  input?: string[];
  output?: string[];
  attention?: string[];
  format?: string[];
  source?: string[];
  minParams?: number;
  maxParams?: number;
  fits?: number;
  limit?: number;
  offset?: number;
  sort?: string;
  desc?: boolean;
}

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

export function register(program: Command): void {
  program
    .command('list')
    .description('list registered models, with filters (several values of one filter mean any of them; tags mean all)')
    .option('--type <type>', 'model type, e.g. decoder_only (repeatable)', collect)
    .option('--arch <architecture>', 'architecture, e.g. LlamaForCausalLM (repeatable)', collect)
    .option('--tag <tag>', 'tag the model must carry (repeatable: all of them)', collect)
    .option('--input <dataType>', 'input data type, e.g. TEXT (repeatable)', collect)
    .option('--output <dataType>', 'output data type, e.g. EMBEDDINGS (repeatable)', collect)
    .option('--attention <kind>', 'attention type: mha, gqa, mqa, mla (repeatable)', collect)
    .option('--format <format>', 'safetensors, pytorch, onnx, gguf, ggml (repeatable)', collect)
    .option('--source <source>', 'manual, huggingface, discovered, static (repeatable)', collect)
    .option('--min-params <n>', 'at least this many parameters (7B, 500M)', quantity('parameter count'))
    .option('--max-params <n>', 'at most this many parameters', quantity('parameter count'))
    .option('--fits <bytes>', 'estimated memory at most this (16GB, 8GiB)', quantity('size'))
    .option('--limit <n>', 'at most this many rows', quantity('limit'))
    .option('--offset <n>', 'skip this many rows', quantity('offset'))
    .option('--sort <field>', `sort by ${SORT_FIELDS.join(', ')}`)
    .option('--desc', 'sort descending')
    .action(
      action(async (command) => {
        const o = optionsOf<ListOptions>(command);
        if (o.sort && !(SORT_FIELDS as readonly string[]).includes(o.sort)) {
          throw new ModelManagerError('INVALID_ARGUMENT', `cannot sort by "${o.sort}": use one of ${SORT_FIELDS.join(', ')}`);
        }
        const filter: ModelFilter = {
          modelType: o.type, architecture: o.arch, tags: o.tag, inputType: o.input, outputType: o.output,
          attentionType: o.attention, format: o.format, source: o.source, minParams: o.minParams, maxParams: o.maxParams,
          fitsBytes: o.fits, limit: o.limit, offset: o.offset, sort: o.sort as SortField | undefined, order: o.desc ? 'desc' : 'asc',
        };
        await withRegistry(command, async (registry) => {
          const models = await registry.listModels(filter);
          if (o.json) {
            printJson({ count: models.length, total: await registry.countModels(filter), models });
          } else if (models.length === 0) {
            process.stderr.write('no models match; `mm add`, `mm import` or `mm scan` register some\n');
          } else {
            printModelTable(models);
          }
        });
      }),
    );
}
