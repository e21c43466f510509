/**
 * A model tree holding every kind of model discovery knows, plus broken files, all written in
 * real formats by code. Weights are sparse holes, so the tree is tiny on disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensorsHeader } from '../../src/index.js';
import { TEXT_ENCODER_IO, llamaGgufMetadata, llamaSafetensors, llamaTensors, writeGguf, writeOnnx, writeSafetensors, writeSparse } from './formats-writer.js';

const json = (path: string, value: unknown) => writeFileSync(path, JSON.stringify(value, null, 2));
const dir = (...parts: string[]) => {
  const p = join(...parts);
  mkdirSync(p, { recursive: true });
  return p;
};

export interface Tree {
  models: string;
  hfCache: string;
  ollama: string;
  /** Paths that must come back as warnings. */
  broken: Record<string, string>;
}

/** Writes the tree under `base` and says where each part is. */
export function buildTree(base: string): Tree {
  const models = dir(base, 'models');

  // HF folder, sharded safetensors, chat template, README, metadata.json
  const chat = dir(models, 'language', 'chat', 'llama-2-7b-chat');
  json(join(chat, 'config.json'), { architectures: ['LlamaForCausalLM'], model_type: 'llama', num_attention_heads: 8, num_key_value_heads: 8, max_position_embeddings: 4096, vocab_size: 256 });
  json(join(chat, 'tokenizer_config.json'), { chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}', model_max_length: 4096 });
  writeFileSync(join(chat, 'README.md'), '---\nlicense: llama2\ntags:\n  - facebook\n  - chat\npipeline_tag: text-generation\nlanguage: [en]\n---\n# Llama 2 Chat\n\nA dialogue model tuned for helpfulness.\nSecond line.\n\nMore text.\n');
  json(join(chat, 'metadata.json'), {
    display_name: 'Llama 2 Chat 7B', use_cases: ['chat', 'customer_support'], language_support: ['en', 'es'], author: 'Meta AI', version: '2.0',
    performance_metrics: { inference_speed: 'fast', accuracy_score: 0.85 }, resource_requirements: { min_ram_gb: 8 }, favourite_colour: 'blue',
  });
  const all = llamaSafetensors();
  const names = Object.keys(all);
  const half = Math.ceil(names.length / 2);
  const shard = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, all[k]!]));
  writeSafetensors(join(chat, 'model-00001-of-00002.safetensors'), shard(names.slice(0, half)));
  writeSafetensors(join(chat, 'model-00002-of-00002.safetensors'), shard(names.slice(half)));
  json(join(chat, 'model.safetensors.index.json'), { weight_map: Object.fromEntries(names.map((n, i) => [n, `model-0000${i < half ? 1 : 2}-of-00002.safetensors`])) });

  // Two GGUF quantizations side by side: one model each
  const coder = dir(models, 'language', 'code', 'starcoder-gguf');
  writeGguf(join(coder, 'starcoder.Q4_K_M.gguf'), llamaGgufMetadata({ name: 'StarCoder', arch: 'starcoder', kvHeads: 1 }), llamaTensors());
  writeGguf(join(coder, 'starcoder.Q8_0.gguf'), llamaGgufMetadata({ name: 'StarCoder', arch: 'starcoder', kvHeads: 1, fileType: 7 }), llamaTensors({ type: 'Q8_0' }));

  // A sharded GGUF
  const mixtral = dir(models, 'language', 'reasoning', 'mixtral');
  writeGguf(join(mixtral, 'mixtral-00001-of-00002.gguf'), { ...llamaGgufMetadata({ name: 'Mixtral', chatTemplate: '{{x}}' }), 'split.count': { type: 'u32', value: 2 } }, llamaTensors({ layers: 1 }));
  writeGguf(join(mixtral, 'mixtral-00002-of-00002.gguf'), { 'split.count': { type: 'u32', value: 2 } }, [{ name: 'output.weight', shape: [64, 256] }]);

  // A GGUF folder as the runtime's testmodel writes it: config.json + one .gguf
  const embed = dir(models, 'embeddings', 'nomic-embed');
  json(join(embed, 'config.json'), { model_type: 'nomic_bert' });
  writeGguf(join(embed, 'model.gguf'), { ...llamaGgufMetadata({ name: 'nomic', arch: 'nomic-bert', heads: 4, kvHeads: 4, fileType: 1 }), 'nomic-bert.pooling_type': { type: 'u32', value: 1 } }, llamaTensors({ type: 'F16' }));

  // Legacy GGML
  const legacy = dir(models, 'legacy');
  const ggjt = Buffer.alloc(8);
  ggjt.writeUInt32LE(0x67676a74);
  ggjt.writeUInt32LE(3, 4);
  writeSparse(join(legacy, 'ggml-model-q4_0.bin'), [ggjt, 4096]);

  // ONNX folder with config + tokenizer, and a bare ONNX file at the root
  const minilm = dir(models, 'embeddings', 'minilm-onnx');
  json(join(minilm, 'config.json'), { architectures: ['BertModel'], model_type: 'bert', num_attention_heads: 12, max_position_embeddings: 512 });
  json(join(minilm, 'tokenizer.json'), { version: '1.0' });
  writeOnnx(join(minilm, 'model.onnx'), { ...TEXT_ENCODER_IO, initializers: [{ name: 'emb', dims: [30522, 384] }] });
  // transformers.js layout: onnx/model.onnx and its quantized and fp16 variants
  const xenova = dir(models, 'embeddings', 'xenova-minilm');
  json(join(xenova, 'config.json'), { architectures: ['BertModel'], model_type: 'bert', num_attention_heads: 12, max_position_embeddings: 512 });
  json(join(xenova, 'tokenizer.json'), { version: '1.0' });
  for (const name of ['model', 'model_quantized', 'model_fp16']) writeOnnx(join(dir(xenova, 'onnx'), `${name}.onnx`), { ...TEXT_ENCODER_IO, initializers: [{ name: 'emb', dims: [30522, 384] }] });
  // sentence-transformers layout: safetensors weights and an ONNX export under onnx/
  const stMinilm = dir(models, 'embeddings', 'st-minilm');
  json(join(stMinilm, 'config.json'), { architectures: ['BertModel'], model_type: 'bert', num_attention_heads: 12, max_position_embeddings: 512 });
  json(join(stMinilm, 'modules.json'), [{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' }]);
  writeSafetensors(join(stMinilm, 'model.safetensors'), { 'embeddings.word_embeddings.weight': { dtype: 'F32', shape: [30522, 384] } });
  writeOnnx(join(dir(stMinilm, 'onnx'), 'model.onnx'), { ...TEXT_ENCODER_IO, initializers: [{ name: 'emb', dims: [30522, 384] }] });
  writeOnnx(join(models, 'resnet50.onnx'), {
    inputs: [{ name: 'pixel_values', elemType: 1, dims: ['batch', 3, 224, 224] }],
    outputs: [{ name: 'logits', elemType: 1, dims: ['batch', 1000] }],
    initializers: [{ name: 'fc.weight', dims: [1000, 2048] }],
  });

  // PyTorch: an HF folder with pytorch_model.bin (zip), and a loose pickle checkpoint
  const whisper = dir(models, 'audio', 'whisper-tiny');
  json(join(whisper, 'config.json'), { architectures: ['WhisperForConditionalGeneration'], model_type: 'whisper', is_encoder_decoder: true, max_source_positions: 1500 });
  writeSparse(join(whisper, 'pytorch_model.bin'), [Buffer.from('PK\x03\x04'), 1 << 20]);
  writeSparse(join(dir(models, 'misc'), 'checkpoint.pt'), [Buffer.from([0x80, 0x02, 0x7d, 0x71]), 1 << 16]);

  // Safetensors without config.json: a LoRA adapter folder, two loose checkpoints side by side
  // (one a shard set with its index), each its own model
  const lora = dir(models, 'adapters', 'llama-chat-lora');
  json(join(lora, 'adapter_config.json'), { peft_type: 'LORA', base_model_name_or_path: 'meta-llama/Llama-2-7b-hf', r: 8, task_type: 'CAUSAL_LM' });
  writeSafetensors(join(lora, 'adapter_model.safetensors'), { 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': { dtype: 'F32', shape: [8, 64] } });
  const checkpoints = dir(models, 'checkpoints');
  writeSafetensors(join(checkpoints, 'sd-turbo.safetensors'), { 'model.diffusion_model.input_blocks.0.0.weight': { dtype: 'F16', shape: [320, 4, 3, 3] } });
  writeSafetensors(join(checkpoints, 'tiny-00001-of-00002.safetensors'), { a: { dtype: 'F32', shape: [10, 10] } });
  writeSafetensors(join(checkpoints, 'tiny-00002-of-00002.safetensors'), { b: { dtype: 'F32', shape: [5] } });
  json(join(checkpoints, 'tiny.safetensors.index.json'), { weight_map: { a: 'tiny-00001-of-00002.safetensors', b: 'tiny-00002-of-00002.safetensors' } });

  // A specialised one: medical
  const bio = dir(models, 'specialized', 'medical', 'biogpt-large');
  json(join(bio, 'config.json'), { architectures: ['BioGptForCausalLM'], model_type: 'biogpt', num_attention_heads: 16, max_position_embeddings: 1024 });
  writeSafetensors(join(bio, 'model.safetensors'), llamaSafetensors({ layers: 1 }));

  // HF cache: models--org--name with refs/main -> snapshot of symlinks into blobs
  const hfCache = dir(base, 'hf', 'hub');
  const repo = dir(hfCache, 'models--acme--tiny-llama');
  const blobs = dir(repo, 'blobs');
  const old = dir(repo, 'snapshots', 'oldrev');
  json(join(old, 'config.json'), { architectures: ['LlamaForCausalLM'] });
  const snap = dir(repo, 'snapshots', 'abc123');
  dir(repo, 'refs');
  writeFileSync(join(repo, 'refs', 'main'), 'abc123');
  json(join(blobs, 'cfg0001'), { architectures: ['LlamaForCausalLM'], model_type: 'llama', num_attention_heads: 8, num_key_value_heads: 2, max_position_embeddings: 2048 });
  writeSafetensors(join(blobs, 'wts0001'), llamaSafetensors({ layers: 1 }));
  symlinkSync('../../blobs/cfg0001', join(snap, 'config.json'));
  symlinkSync('../../blobs/wts0001', join(snap, 'model.safetensors'));

  // HF cache: a diffusers pipeline, whose components (each with an fp16 variant of its weights) are its models
  const pipeline = dir(hfCache, 'models--acme--tiny-diffusion', 'snapshots', 'def456');
  json(join(pipeline, 'model_index.json'), { _class_name: 'StableDiffusionPipeline', unet: ['diffusers', 'UNet2DConditionModel'], vae: ['diffusers', 'AutoencoderKL'] });
  json(join(dir(pipeline, 'scheduler'), 'scheduler_config.json'), { _class_name: 'PNDMScheduler' });
  for (const [component, cls, shape] of [['unet', 'UNet2DConditionModel', [320, 4, 3, 3]], ['vae', 'AutoencoderKL', [128, 3, 3, 3]]] as const) {
    json(join(dir(pipeline, component), 'config.json'), { _class_name: cls, _diffusers_version: '0.30.0' });
    writeSafetensors(join(pipeline, component, 'diffusion_pytorch_model.safetensors'), { 'conv_in.weight': { dtype: 'F32', shape: [...shape] } });
    writeSafetensors(join(pipeline, component, 'diffusion_pytorch_model.fp16.safetensors'), { 'conv_in.weight': { dtype: 'F16', shape: [...shape] } });
  }

  // Ollama: manifests -> blobs; the model layer is GGUF, a template layer means chat
  const ollama = dir(base, 'ollama', 'models');
  const oblobs = dir(ollama, 'blobs');
  // Digests as Ollama writes them: sha256 of the blob, 64 hex digits.
  const model = 'a'.repeat(64);
  const template = 'b'.repeat(64);
  writeGguf(join(oblobs, `sha256-${model}`), llamaGgufMetadata({ name: 'Llama 3 8B' }), llamaTensors());
  writeFileSync(join(oblobs, `sha256-${template}`), '{{ .Prompt }}');
  json(join(dir(ollama, 'manifests', 'registry.ollama.ai', 'library', 'llama3'), '8b'), {
    schemaVersion: 2,
    layers: [
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${model}`, size: 1 },
      { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${template}`, size: 1 },
    ],
  });

  // Broken things: each must be a warning naming the file
  const broken = dir(models, 'broken');
  const brokenPaths: Record<string, string> = {};
  brokenPaths.junk = join(broken, 'junk.gguf');
  writeFileSync(brokenPaths.junk, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 251)));
  brokenPaths.lying = join(broken, 'lying.gguf');
  writeFileSync(brokenPaths.lying, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(8)]));
  const truncated = dir(broken, 'truncated-model');
  json(join(truncated, 'config.json'), { architectures: ['LlamaForCausalLM'] });
  brokenPaths.truncated = join(truncated, 'model.safetensors');
  const { header } = encodeSafetensorsHeader(llamaSafetensors({ layers: 1 }));
  writeFileSync(brokenPaths.truncated, Buffer.concat([header, Buffer.alloc(100)]));
  brokenPaths.badOnnx = join(broken, 'bad.onnx');
  writeFileSync(brokenPaths.badOnnx, 'not a protobuf at all');
  brokenPaths.halfShards = join(broken, 'half-00001-of-00002.gguf');
  writeGguf(brokenPaths.halfShards, llamaGgufMetadata({ name: 'half' }), llamaTensors({ layers: 1 }));
  brokenPaths.halfSafetensors = join(broken, 'weights-00001-of-00003.safetensors');
  writeSafetensors(brokenPaths.halfSafetensors, { a: { dtype: 'F32', shape: [4] } });
  writeSafetensors(join(broken, 'weights-00003-of-00003.safetensors'), { c: { dtype: 'F32', shape: [4] } });
  brokenPaths.selfLink = join(broken, 'self');
  symlinkSync('self', brokenPaths.selfLink);
  brokenPaths.loop = join(broken, 'loop');
  symlinkSync('..', brokenPaths.loop);
  brokenPaths.nonUtf8 = join(broken, '\uFFFD\uFFFD.gguf');
  writeFileSync(Buffer.from(`${broken}/\xff\xfe.gguf`, 'latin1'), 'x');
  brokenPaths.pipe = join(broken, 'pipe.gguf');
  execFileSync('mkfifo', [brokenPaths.pipe]);
  brokenPaths.unknownBin = join(broken, 'random.bin');
  writeFileSync(brokenPaths.unknownBin, 'hello, not weights');
  writeFileSync(join(broken, 'download.gguf.tmp'), 'excluded by *.tmp');

  return { models, hfCache, ollama, broken: brokenPaths };
}
