// The README's library example, kept here so the compiler checks it (it is built, never run).
import { Registry, ModelManager, importFromHuggingFace } from '../src/index.js';

export async function readmeSnippet(): Promise<void> {
  await using registry = await Registry.open();
  await importFromHuggingFace(registry, './models/my-finetune');
  const small = await registry.listModels({ attentionType: 'gqa', fitsBytes: 16e9 });
  await registry.addQualityMetric({ modelId: small[0]!.modelId, name: 'MMLU', value: 0.625, shots: 5 });
  await using manager = await ModelManager.create({ registry, memoryBudgetBytes: 8e9 });
  const r = await manager.task({ taskData: ['hello'], taskType: 'embedding', modelName: 'tiny-embed', keepAlive: '5m' });
  if (r.success) console.log(r.data.embeddings[0]!.length); else console.error(r.error.code, r.error.message);
  const p = await manager.task({ taskData: null, taskType: 'embedding', modelName: 'tiny-embed' });
  if (p.success) console.log(p.data.preloaded);
}
