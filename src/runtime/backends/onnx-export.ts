/**
 * What an ONNX export in Hugging Face layout holds for transformers.js: which graphs it loads
 * (optimum's `encoder_model` and `decoder_model_merged` for encoder-decoders, `model` otherwise),
 * in which variant (`model_quantized.onnx` is q8, as a pull of `org/name:quantized` leaves it),
 * and what they weigh on disk.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface OnnxExport {
  /** config.json's `is_encoder_decoder` (T5, BART): generation runs encoder, then decoder with past. */
  encoderDecoder: boolean;
  /** Graph names transformers.js loads from `onnx/`, without `.onnx` (`model_quantized` for the q8 variant). */
  graphs: readonly string[];
  /** transformers.js's `dtype`, which picks the variant's files. */
  dtype: OnnxDtype;
}

/** transformers.js's dtypes by the suffix of the graph files each loads (`onnx/model_quantized.onnx` is q8). */
const ONNX_DTYPES = { '': 'fp32', fp16: 'fp16', int8: 'int8', uint8: 'uint8', quantized: 'q8', q4: 'q4', q4f16: 'q4f16', bnb4: 'bnb4' } as const;
export type OnnxDtype = (typeof ONNX_DTYPES)[keyof typeof ONNX_DTYPES];

/** The variant an `.onnx` file named as the model (`onnx/model_fp16.onnx`) asks for; a folder asks for the fp32 graphs. */
function variantOf(path: string): keyof typeof ONNX_DTYPES {
  const suffix = /(?:^|[/\\])(?:model|encoder_model|decoder_model_merged)(?:_([A-Za-z0-9]+))?\.onnx$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return Object.hasOwn(ONNX_DTYPES, suffix) ? (suffix as keyof typeof ONNX_DTYPES) : '';
}

const ENCODER_DECODER_GRAPHS = ['encoder_model', 'decoder_model_merged'] as const;
const SINGLE_GRAPH = ['model'] as const;

/** The export in `folder`, as its config.json describes it, in the variant `path` (the folder or one graph file in it) names. */
export async function readOnnxExport(folder: string, path: string = folder): Promise<OnnxExport> {
  let encoderDecoder = false;
  try {
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { is_encoder_decoder?: unknown };
    encoderDecoder = config.is_encoder_decoder === true;
  } catch {
    // transformers.js reports an unreadable config with its own words when it loads
  }
  const variant = variantOf(path);
  const graphs = (encoderDecoder ? ENCODER_DECODER_GRAPHS : SINGLE_GRAPH).map((graph) => (variant ? `${graph}_${variant}` : graph));
  return { encoderDecoder, graphs, dtype: ONNX_DTYPES[variant] };
}

/** The files the graphs of `onnx` are stored in, relative to the model folder. */
export function graphFiles({ graphs }: OnnxExport): string[] {
  return graphs.map((graph) => `onnx/${graph}.onnx`);
}

/**
 * Bytes of the graphs transformers.js will load, external data included; undefined when a
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
