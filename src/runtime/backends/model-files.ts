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
