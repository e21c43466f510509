import { formatBytes, formatCount } from '../../units.js';
import { withRegistry } from '../context.js';
import { printFields, printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const show = program
    .command('show <id>')
    .description('show one model (id, id@version or id@alias)')
    .option('--config', 'print its Hugging Face config instead');
  show.action(async (id) => {
    const o = show.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const m = await registry.requireModel(id);
      if (o.config) {
        printJson(m.huggingfaceConfig ?? {});
        return;
      }
      if (o.json) return printJson(m);
      printFields([
        ['id', m.modelId], ['name', m.displayName ?? m.modelName], ['description', m.description], ['type', m.modelType],
        ['architecture', m.architecture], ['format', m.format], ['quantization', m.quantization],
        ['parameters', m.parameterCount === undefined ? undefined : `${formatCount(m.parameterCount)} (${m.parameterCount})`],
        ['attention', m.attentionType], ['context', m.contextLength], ['modalities', m.modalities.join(', ')],
        ['capabilities', m.capabilities.join(', ')], ['category', m.category && [m.category.primary, m.category.secondary, m.category.specialization].filter(Boolean).join(' / ')],
        ['tags', m.tags.join(', ')], ['license', m.license], ['author', m.author], ['source', m.source], ['status', m.status],
        ['path', m.localPath], ['base model', m.baseModel], ['aliases', Object.keys(m.aliases).length ? m.aliases : undefined],
        ['memory estimate', m.memoryEstimate && `${formatBytes(m.memoryEstimate.totalBytes)} (weights ${formatBytes(m.memoryEstimate.weightsBytes)}, KV ${formatBytes(m.memoryEstimate.kvCacheBytesPerToken)}/token, context ${m.memoryEstimate.context}, ${m.memoryEstimate.method})`],
        ['measured', m.measured && `${formatBytes(m.measured.memoryBytes)}, load ${m.measured.loadTimeMs.toFixed(0)} ms on ${m.measured.device}${m.measured.throughput ? `, ${m.measured.throughput.toFixed(1)} ${m.measured.throughputUnit ?? '/s'}` : ''}`],
        ['performance', Object.keys(m.performanceMetrics).length ? m.performanceMetrics : undefined],
        ['created', m.createdAt], ['updated', m.updatedAt],
      ]);
      for (const [title, specs] of [['inputs', m.inputs], ['outputs', m.outputs]] as const) {
        if (specs.length === 0) continue;
        process.stdout.write(`\n${title}:\n`);
        printTable(['NAME', 'DATA TYPE', 'DTYPE', 'SHAPE', 'OPTIONAL'], specs.map((s) => [s.name, s.dataType, s.dtype, s.shape ? `[${s.shape.join(', ')}]` : '', s.optional ? 'yes' : '']));
      }
      if (m.locations && m.locations.length > 0) {
        process.stdout.write('\nlocations:\n');
        printTable(['HOST', 'PATH', 'FILES', 'SIZE', 'SEEN'], m.locations.map((l) => [
          l.host, l.path, l.files.length, formatBytes(l.files.reduce((n, f) => n + (f.size ?? 0), 0)), l.seenAt,
        ]));
      }
      if (m.qualityMetrics.length > 0) {
        process.stdout.write('\nquality metrics:\n');
        printTable(['NAME', 'VALUE', 'SHOTS', 'SOURCE'], m.qualityMetrics.map((q) => [q.name, q.value, q.shots, q.source]));
      }
    });
  });
}
