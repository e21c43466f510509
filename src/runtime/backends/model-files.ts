/**
 * Finding the file a backend loads inside a model folder (a GGUF file, an ONNX graph), by name
 * only, so `supports()` stays cheap.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** Entries of `dir`, or none when it is not a readable folder. */
async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

const SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

/**
 * The GGUF file to load for `path`: the file itself, or the one GGUF in the folder. Among several,
 * projector files (`mmproj*`) are skipped, split models load from their first part, and the
 * alphabetically first of the rest wins. Undefined when there is none.
 */
export async function findGgufFile(path: string): Promise<string | undefined> {
  if (!(await isDirectory(path))) return /\.gguf$/i.test(path) ? path : undefined;
  const candidates = (await listDir(path))
    .filter((name) => /\.gguf$/i.test(name) && !/^mmproj/i.test(name))
    .filter((name) => !SHARD.test(name) || SHARD.exec(name)?.[1] === '00001')
    .sort();
  return candidates[0] === undefined ? undefined : join(path, candidates[0]);
}

/**
 * The folder transformers.js loads for `path` (a model folder, or an .onnx file inside one),
 * when it holds config.json and an ONNX graph. Undefined otherwise.
 */
export async function findOnnxModelFolder(path: string): Promise<string | undefined> {
  let folder = path;
  if (!(await isDirectory(path))) {
    if (!/\.onnx$/i.test(path)) return undefined;
    folder = join(path, '..');
    if (basename(folder) === 'onnx') folder = join(folder, '..');
  }
  const files = new Set([...(await listDir(folder)), ...(await listDir(join(folder, 'onnx'))).map((f) => `onnx/${f}`)]);
  if (!files.has('config.json')) return undefined;
  return [...files].some((f) => /\.onnx$/i.test(f)) ? folder : undefined;
}

/** transformers.js's dtypes by the suffix of the graph file each loads (`onnx/model_quantized.onnx` is q8). */
const ONNX_DTYPES = { '': 'fp32', fp16: 'fp16', int8: 'int8', uint8: 'uint8', quantized: 'q8', q4: 'q4', q4f16: 'q4f16', bnb4: 'bnb4' } as const;
export type OnnxDtype = (typeof ONNX_DTYPES)[keyof typeof ONNX_DTYPES];

/**
 * The graph transformers.js loads for `path`: the variant an `.onnx` file names
 * (`onnx/model_quantized.onnx`: q8, as a pull of `org/name:quantized` leaves it), else the fp32 `model.onnx`.
 */
export function onnxGraphOf(path: string): { dtype: OnnxDtype; file: string } {
  const suffix = /(?:^|[/\\])model(?:_([A-Za-z0-9]+))?\.onnx$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return Object.hasOwn(ONNX_DTYPES, suffix)
    ? { dtype: ONNX_DTYPES[suffix as keyof typeof ONNX_DTYPES], file: suffix ? `model_${suffix}.onnx` : 'model.onnx' }
    : { dtype: 'fp32', file: 'model.onnx' };
}
