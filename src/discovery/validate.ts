/**
 * `validate`: are a registered model's files all there, do their headers agree with their sizes,
 * and are its shard sets complete? Each check says what it found.
 *
 * A record's `files[]` is written by people too (`mm update`, the HTTP API): only files that lie
 * in the model's folder, spelled and really (symlinks resolved), are stat-ed or read. Any other
 * path is named in a failed check and never touched, so a record cannot make validation read
 * (or tell the size of) a file elsewhere on the host.
 */
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ggufShardSet, readGgufHeader, readOnnxModel, readSafetensorsHeader, safetensorsIndexShards } from '../formats/index.js';
import { isInside, modelFolder, realPath, realPathWithin } from '../formats/confine.js';
import { toModelManagerError } from '../errors.js';
import type { ModelMetadata } from '../registry/index.js';
import type { ValidationCheck, ValidationReport } from './types.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** The model's folder, and its files split into those inside it and those elsewhere. */
async function confine(model: ModelMetadata): Promise<{ folder?: string; inside: ModelMetadata['files']; outside: string[] }> {
  const local = model.localPath === undefined ? undefined : await stat(model.localPath).catch(() => undefined);
  if (!model.localPath || !local) return { inside: [], outside: [] };
  const folder = modelFolder(resolve(model.localPath), local.isFile());
  const realFolder = realPath(folder) ?? folder;
  const inside: ModelMetadata['files'] = [];
  const outside: string[] = [];
  for (const f of model.files) {
    const path = resolve(folder, f.path);
    // Spelled outside: not even stat-ed. Spelled inside: followed, and refused when it leads out.
    if (!isInside(path, folder) || realPathWithin(path, realFolder) === 'outside') outside.push(f.path);
    else inside.push({ ...f, path });
  }
  return { folder, inside, outside };
}

async function filesPresent(model: ModelMetadata, { folder, inside, outside }: Awaited<ReturnType<typeof confine>>): Promise<ValidationCheck[]> {
  if (!model.localPath && model.files.length === 0) return [{ name: 'local files', ok: false, message: 'the model has no local path or files; nothing on disk to validate' }];
  if (!model.localPath) return [{ name: 'local path', ok: false, message: 'the model has no local path: its files are checked only inside its folder (set localPath)' }];
  if (folder === undefined) return [{ name: 'local path', ok: false, message: `${model.localPath} does not exist` }];
  const checks: ValidationCheck[] = [{ name: 'local path', ok: true, message: model.localPath }];
  if (outside.length > 0) {
    checks.push({ name: 'files inside the model folder', ok: false, message: `${outside.length} of ${model.files.length} files lie outside ${folder} and were not read: ${outside.slice(0, 5).join(', ')}` });
  }
  const missing: string[] = [];
  const resized: string[] = [];
  for (const f of inside) {
    const s = await stat(f.path).catch(() => undefined);
    if (!s) missing.push(f.path);
    else if (f.size !== undefined && s.size !== f.size) resized.push(`${f.path} (${f.size} -> ${s.size} bytes)`);
  }
  checks.push({ name: 'files present', ok: missing.length === 0, message: missing.length === 0 ? `${inside.length} files present` : `${missing.length} of ${inside.length} missing: ${missing.slice(0, 5).join(', ')}` });
  checks.push({ name: 'sizes as registered', ok: resized.length === 0, message: resized.length === 0 ? 'every file has its registered size' : `changed since registration: ${resized.slice(0, 5).join(', ')}; run \`mm scan\`` });
  return checks;
}

/** Every shard a safetensors index or a GGUF shard name promises is present (an index naming a shard outside the folder fails). */
async function shardsComplete(paths: string[], folder: string): Promise<ValidationCheck | undefined> {
  const expected = new Set<string>();
  const missing = new Set<string>();
  for (const path of paths) {
    if (path.endsWith('.safetensors.index.json')) {
      try {
        const index = safetensorsIndexShards(path, { within: folder });
        for (const p of index.shards) expected.add(p);
        for (const p of index.missing) missing.add(p);
      } catch (error) {
        return { name: 'shards complete', ok: false, message: toModelManagerError(error).message };
      }
    }
    const set = ggufShardSet(basename(path));
    if (set) for (const n of set.names) expected.add(join(dirname(path), n));
  }
  if (expected.size === 0) return undefined;
  for (const p of expected) if (!missing.has(p) && !(await exists(p))) missing.add(p);
  return { name: 'shards complete', ok: missing.size === 0, message: missing.size === 0 ? `${expected.size} shards present` : `${missing.size} of ${expected.size} shards missing: ${[...missing].slice(0, 5).join(', ')}` };
}

/** Ollama blobs have no extension: the model layer is the one that starts with the GGUF magic. */
async function startsWithGguf(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.toString('latin1') === 'GGUF';
  } finally {
    await handle.close();
  }
}

/** Reads each weights header, which checks the sizes it declares against the file's size. */
async function headersConsistent(paths: string[]): Promise<ValidationCheck | undefined> {
  const problems: string[] = [];
  let checked = 0;
  for (const path of paths) {
    if (!(await exists(path))) continue;
    try {
      if (/\.safetensors$/i.test(path)) await readSafetensorsHeader(path);
      else if (/\.gguf$/i.test(path) || (/[\\/]blobs[\\/]sha256-/.test(path) && (await startsWithGguf(path)))) await readGgufHeader(path);
      else if (/\.onnx$/i.test(path)) await readOnnxModel(path);
      else continue;
      checked += 1;
    } catch (error) {
      problems.push(toModelManagerError(error).message);
    }
  }
  if (checked === 0 && problems.length === 0) return undefined;
  return { name: 'headers match file sizes', ok: problems.length === 0, message: problems.length === 0 ? `${checked} headers read, sizes consistent` : problems.slice(0, 3).join('; ') };
}

/** Validates one registered model's files on disk. */
export async function validateModelFiles(model: ModelMetadata): Promise<ValidationReport> {
  const files = await confine(model);
  const checks = await filesPresent(model, files);
  if (files.folder !== undefined) {
    const paths = files.inside.map((f) => f.path);
    const shards = await shardsComplete(paths, files.folder);
    if (shards) checks.push(shards);
    const headers = await headersConsistent(paths);
    if (headers) checks.push(headers);
  }
  return { modelId: model.modelId, ok: checks.every((c) => c.ok), checks };
}
