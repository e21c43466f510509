/**
 * What an ONNX export in Hugging Face layout holds for transformers.js: which graphs it loads
 * (optimum's `encoder_model` and `decoder_model_merged` for encoder-decoders, `model` otherwise)
 * and what they weigh on disk.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface OnnxExport {
  /** config.json's `is_encoder_decoder` (T5, BART): generation runs encoder, then decoder with past. */
  encoderDecoder: boolean;
  /** Graph names transformers.js loads from `onnx/`, without `.onnx`. */
  graphs: readonly string[];
}

const ENCODER_DECODER_GRAPHS = ['encoder_model', 'decoder_model_merged'] as const;
const SINGLE_GRAPH = ['model'] as const;

/** The export in `folder`, as its config.json describes it. */
export async function readOnnxExport(folder: string): Promise<OnnxExport> {
  let encoderDecoder = false;
  try {
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { is_encoder_decoder?: unknown };
    encoderDecoder = config.is_encoder_decoder === true;
  } catch {
    // transformers.js reports an unreadable config with its own words when it loads
  }
  return { encoderDecoder, graphs: encoderDecoder ? ENCODER_DECODER_GRAPHS : SINGLE_GRAPH };
}

/** The files the graphs of `onnx` are stored in, relative to the model folder. */
export function graphFiles({ graphs }: OnnxExport): string[] {
  return graphs.map((graph) => `onnx/${graph}.onnx`);
}

/**
 * Bytes of the fp32 graphs transformers.js will load, external data included; undefined when a
 * graph is missing.
 */
export async function graphBytes(folder: string, { graphs }: OnnxExport): Promise<number | undefined> {
  for (const dir of [join(folder, 'onnx'), folder]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (!graphs.every((graph) => names.includes(`${graph}.onnx`))) continue;
    // Graph names are fixed identifiers (no pattern characters); large graphs keep their weights in `.onnx_data` files.
    const part = new RegExp(`^(${graphs.join('|')})\\.onnx(_data(_\\d+)?)?$`);
    const sizes = await Promise.all(names.filter((name) => part.test(name)).map((name) => stat(join(dir, name)).then((s) => s.size)));
    return sizes.reduce((a, b) => a + b, 0);
  }
  return undefined;
}
