/**
 * The discovery benchmark's model tree: N model folders with real-format headers of realistic
 * size and weights as sparse holes of their true declared size.
 *
 * Mix (by folder index): 80% HF folders (config.json, tokenizer_config.json with a chat template,
 * README.md, safetensors: one file up to 32 layers, else 4 shards + index), 10% GGUF (Llama-2
 * 32,000-token vocabulary, Q4_K_M), 10% ONNX folders (BERT-base graph, 110M inline float32
 * weights as holes, 400 nodes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensorsHeader } from '../src/index.js';
import { TEXT_ENCODER_IO, ggufHeader, llamaGgufMetadata, llamaSafetensors, llamaTensors, onnxSegments, writeSparse, type Segment } from '../test/discovery/formats-writer.js';

const LAYERS = [16, 22, 24, 28, 32, 40, 60, 80] as const;

export interface BenchTree {
  root: string;
  models: number;
  /** Bytes the weight files declare (their full sizes), summed. */
  declaredBytes: number;
  /** One model folder of each kind, for the naive-read baseline. */
  samples: string[];
}

function memo<K, V>(make: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    let v = cache.get(k);
    if (v === undefined) cache.set(k, (v = make(k)));
    return v;
  };
}

/** Safetensors shard headers of a llama model with `layers` layers at 7B width. */
const safetensorsShards = memo((layers: number) => {
  const tensors = llamaSafetensors({ layers, hidden: 4096, ff: 11008, vocab: 32000 });
  const names = Object.keys(tensors);
  const shards = layers > 32 ? 4 : 1;
  const per = Math.ceil(names.length / shards);
  const parts = Array.from({ length: shards }, (_, s) => names.slice(s * per, (s + 1) * per));
  return parts.map((keys, s) => ({
    name: shards === 1 ? 'model.safetensors' : `model-0000${s + 1}-of-0000${shards}.safetensors`,
    keys,
    ...encodeSafetensorsHeader(Object.fromEntries(keys.map((k) => [k, tensors[k]!]))),
  }));
});

const VOCAB = Array.from({ length: 32000 }, (_, i) => (i < 3 ? ['<unk>', '<s>', '</s>'][i]! : `▁tok${i.toString(36)}`));
const ggufFile = memo((layers: number) => ggufHeader(llamaGgufMetadata({ name: `llama-${layers}L`, layers, heads: 32, kvHeads: 8, vocab: VOCAB, chatTemplate: CHAT_TEMPLATE }), llamaTensors({ layers, hidden: 4096, ff: 11008, vocab: 32000 })));

const BERT_INITIALIZERS = [
  { name: 'embeddings.word_embeddings.weight', dims: [30522, 768] },
  { name: 'embeddings.position_embeddings.weight', dims: [512, 768] },
  ...Array.from({ length: 12 }, (_, l) => [
    ...['query', 'key', 'value', 'output'].map((n) => ({ name: `encoder.layer.${l}.attention.${n}.weight`, dims: [768, 768] })),
    { name: `encoder.layer.${l}.intermediate.weight`, dims: [768, 3072] },
    { name: `encoder.layer.${l}.output.weight`, dims: [3072, 768] },
    ...['ln1', 'ln2'].map((n) => ({ name: `encoder.layer.${l}.${n}.weight`, dims: [768] })),
  ]).flat(),
];
const onnxModel: Segment[] = onnxSegments({ ...TEXT_ENCODER_IO, initializers: BERT_INITIALIZERS, nodes: 400 });

const CHAT_TEMPLATE = "{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

const json = (path: string, value: unknown) => writeFileSync(path, JSON.stringify(value, null, 2));

/** Writes `count` model folders under `root`/models (100 per group folder). */
export function buildBenchTree(root: string, count: number): BenchTree {
  const tree: BenchTree = { root: join(root, 'models'), models: count, declaredBytes: 0, samples: [] };
  for (let i = 0; i < count; i++) {
    const kind = i % 10 === 9 ? 'gguf' : i % 10 === 8 ? 'onnx' : 'hf';
    const layers = LAYERS[i % LAYERS.length]!;
    const dir = join(tree.root, `group-${String(Math.floor(i / 100)).padStart(3, '0')}`, `${kind}-model-${i}-${layers}L`);
    mkdirSync(dir, { recursive: true });
    if (kind === 'hf') {
      json(join(dir, 'config.json'), {
        architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: layers,
        num_attention_heads: 32, num_key_value_heads: i % 2 ? 8 : 32, max_position_embeddings: 4096, vocab_size: 32000, torch_dtype: 'bfloat16',
      });
      json(join(dir, 'tokenizer_config.json'), { add_bos_token: true, bos_token: '<s>', eos_token: '</s>', model_max_length: 4096, chat_template: CHAT_TEMPLATE });
      writeFileSync(join(dir, 'README.md'), `---\nlicense: apache-2.0\ntags: [text-generation, chat]\npipeline_tag: text-generation\n---\n# Model ${i}\n\nA ${layers}-layer chat model for the discovery benchmark.\n`);
      const shards = safetensorsShards(layers);
      for (const s of shards) tree.declaredBytes += writeSparse(join(dir, s.name), [s.header, s.dataBytes]);
      if (shards.length > 1) json(join(dir, 'model.safetensors.index.json'), { weight_map: Object.fromEntries(shards.flatMap((s) => s.keys.map((k) => [k, s.name]))) });
    } else if (kind === 'gguf') {
      const { header, dataBytes } = ggufFile(layers);
      tree.declaredBytes += writeSparse(join(dir, `model-${layers}L.Q4_K_M.gguf`), [header, dataBytes]);
    } else {
      json(join(dir, 'config.json'), { architectures: ['BertModel'], model_type: 'bert', num_attention_heads: 12, max_position_embeddings: 512 });
      json(join(dir, 'tokenizer.json'), { version: '1.0', model: { type: 'WordPiece' } });
      tree.declaredBytes += writeSparse(join(dir, 'model.onnx'), onnxModel);
    }
    if (i < 10 && (kind !== 'hf' || i === 0)) tree.samples.push(dir);
  }
  return tree;
}
