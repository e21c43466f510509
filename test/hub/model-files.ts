/**
 * Builders for the model files the hub tests read: real-format safetensors (headers over sparse
 * data), model folders, and the Hugging Face cache layout (blobs, snapshot symlinks, refs).
 */
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { encodeSafetensorsHeader } from '../../src/formats/index.js';

export const FIXTURES = new URL('../../../test/fixtures/hf/', import.meta.url);

export interface PublishedModel {
  id: string;
  fixture: string;
  published: number;
  source: string;
  attention: string;
  kvBytesPerTokenFp16: number;
}

export function publishedModels(): PublishedModel[] {
  return (JSON.parse(readFileSync(new URL('published.json', FIXTURES), 'utf8')) as { models: PublishedModel[] }).models;
}

export function fixtureConfig(fixture: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${fixture}/config.json`, FIXTURES), 'utf8')) as Record<string, unknown>;
}

/** A llama of realistic layout and toy size: 2 layers, hidden 64, GQA 4/2 heads. */
export const TINY_LLAMA_CONFIG = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256, max_position_embeddings: 512, tie_word_embeddings: false,
  torch_dtype: 'bfloat16', rms_norm_eps: 1e-5,
};

type Tensors = Record<string, { dtype: string; shape: number[] }>;

/** The tensors transformers' LlamaForCausalLM saves for a config. */
export function llamaTensors(c: typeof TINY_LLAMA_CONFIG, dtype = 'BF16'): Tensors {
  const hd = c.hidden_size / c.num_attention_heads;
  const t: Tensors = { 'model.embed_tokens.weight': { dtype, shape: [c.vocab_size, c.hidden_size] } };
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    t[`${p}.self_attn.q_proj.weight`] = { dtype, shape: [c.num_attention_heads * hd, c.hidden_size] };
    t[`${p}.self_attn.k_proj.weight`] = { dtype, shape: [c.num_key_value_heads * hd, c.hidden_size] };
    t[`${p}.self_attn.v_proj.weight`] = { dtype, shape: [c.num_key_value_heads * hd, c.hidden_size] };
    t[`${p}.self_attn.o_proj.weight`] = { dtype, shape: [c.hidden_size, c.num_attention_heads * hd] };
    t[`${p}.mlp.gate_proj.weight`] = { dtype, shape: [c.intermediate_size, c.hidden_size] };
    t[`${p}.mlp.up_proj.weight`] = { dtype, shape: [c.intermediate_size, c.hidden_size] };
    t[`${p}.mlp.down_proj.weight`] = { dtype, shape: [c.hidden_size, c.intermediate_size] };
    t[`${p}.input_layernorm.weight`] = { dtype, shape: [c.hidden_size] };
    t[`${p}.post_attention_layernorm.weight`] = { dtype, shape: [c.hidden_size] };
  }
  t['model.norm.weight'] = { dtype, shape: [c.hidden_size] };
  t['lm_head.weight'] = { dtype, shape: [c.vocab_size, c.hidden_size] };
  return t;
}

/** A safetensors file as the hub test server serves it: the header, then zeros. */
export function safetensorsFile(tensors: Tensors): { header: Buffer; size: number } {
  const { header, dataBytes } = encodeSafetensorsHeader(tensors);
  return { header, size: header.length + dataBytes };
}

/** Splits tensors into `count` shards named like transformers does, with their index. */
export function shardFiles(tensors: Tensors, count: number): Record<string, { header: Buffer; size: number } | string> {
  const names = Object.keys(tensors);
  const per = Math.ceil(names.length / count);
  const files: Record<string, { header: Buffer; size: number } | string> = {};
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < count; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
    const part = Object.fromEntries(names.slice(s * per, (s + 1) * per).map((n) => [n, tensors[n]!]));
    for (const n of Object.keys(part)) weightMap[n] = file;
    files[file] = safetensorsFile(part);
  }
  files['model.safetensors.index.json'] = JSON.stringify({ metadata: {}, weight_map: weightMap });
  return files;
}

/** Writes files into a folder; safetensors get their header and a sparse tail of the declared size. */
export function writeFiles(dir: string, files: Record<string, string | Buffer | { header: Buffer; size: number }>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    if (typeof content === 'string' || Buffer.isBuffer(content)) writeFileSync(path, content);
    else {
      writeFileSync(path, content.header);
      truncateSync(path, content.size);
    }
  }
}

/**
 * Lays files out as huggingface_hub caches them: blobs named by hash, snapshot entries as
 * relative symlinks, and refs/main naming the snapshot.
 */
export function writeHfCache(cacheDir: string, repoId: string, sha: string, files: Record<string, string | Buffer | { header: Buffer; size: number }>): string {
  const repo = join(cacheDir, `models--${repoId.replace('/', '--')}`);
  const snapshot = join(repo, 'snapshots', sha);
  mkdirSync(join(repo, 'refs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), sha);
  for (const [name, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' || Buffer.isBuffer(content) ? Buffer.from(content) : content.header;
    const blob = join(repo, 'blobs', createHash('sha256').update(bytes).update(name).digest('hex'));
    writeFiles(dirname(blob), { [relative(dirname(blob), blob)]: content });
    symlinkSync(relative(snapshot, blob), join(snapshot, name));
  }
  return snapshot;
}
