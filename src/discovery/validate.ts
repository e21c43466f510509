/**
 * `validate`: are a registered model's files all there, do their headers agree with their sizes,
 * and are its shard sets complete? Each check says what it found.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ggufShardSet, readGgufHeader, readOnnxModel, readSafetensorsHeader } from '../formats/index.js';
import { toModelManagerError } from '../errors.js';
import type { ModelMetadata } from '../registry/index.js';
import type { ValidationCheck, ValidationReport } from './types.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function filesPresent(model: ModelMetadata): Promise<ValidationCheck[]> {
  if (!model.localPath && model.files.length === 0) return [{ name: 'local files', ok: false, message: 'the model has no local path or files; nothing on disk to validate' }];
  const checks: ValidationCheck[] = [];
  if (model.localPath) {
    const there = await stat(model.localPath).then(() => true, () => false);
    checks.push({ name: 'local path', ok: there, message: there ? model.localPath : `${model.localPath} does not exist` });
  }
  const missing: string[] = [];
  const resized: string[] = [];
  for (const f of model.files) {
    const s = await stat(f.path).catch(() => undefined);
    if (!s) missing.push(f.path);
    else if (f.size !== undefined && s.size !== f.size) resized.push(`${f.path} (${f.size} -> ${s.size} bytes)`);
  }
  checks.push({ name: 'files present', ok: missing.length === 0, message: missing.length === 0 ? `${model.files.length} files present` : `${missing.length} of ${model.files.length} missing: ${missing.slice(0, 5).join(', ')}` });
  checks.push({ name: 'sizes as registered', ok: resized.length === 0, message: resized.length === 0 ? 'every file has its registered size' : `changed since registration: ${resized.slice(0, 5).join(', ')}; run \`mm scan\`` });
  return checks;
}

/** Every shard a safetensors index or a GGUF shard name promises is present. */
async function shardsComplete(paths: string[]): Promise<ValidationCheck | undefined> {
  const expected = new Set<string>();
  for (const path of paths) {
    if (path.endsWith('.safetensors.index.json')) {
      try {
        const index = JSON.parse(await readFile(path, 'utf8')) as { weight_map?: Record<string, string> };
        for (const n of Object.values(index.weight_map ?? {})) expected.add(join(dirname(path), n));
      } catch (error) {
        return { name: 'shards complete', ok: false, message: `${path}: unreadable index (${(error as Error).message})` };
      }
    }
    const set = ggufShardSet(basename(path));
    if (set) for (const n of set.names) expected.add(join(dirname(path), n));
  }
  if (expected.size === 0) return undefined;
  const missing: string[] = [];
  for (const p of expected) if (!(await exists(p))) missing.push(p);
  return { name: 'shards complete', ok: missing.length === 0, message: missing.length === 0 ? `${expected.size} shards present` : `${missing.length} of ${expected.size} shards missing: ${missing.slice(0, 5).join(', ')}` };
}

/** Reads each weights header, which checks the sizes it declares against the file's size. */
async function headersConsistent(paths: string[]): Promise<ValidationCheck | undefined> {
  const problems: string[] = [];
  let checked = 0;
  for (const path of paths) {
    if (!(await exists(path))) continue;
    try {
      if (/\.safetensors$/i.test(path)) await readSafetensorsHeader(path);
      else if (/\.gguf$/i.test(path) || /\/blobs\/sha256-/.test(path)) await readGgufHeader(path);
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
  const paths = model.files.map((f) => f.path);
  const checks = await filesPresent(model);
  const shards = await shardsComplete(paths);
  if (shards) checks.push(shards);
  const headers = await headersConsistent(paths);
  if (headers) checks.push(headers);
  return { modelId: model.modelId, ok: checks.every((c) => c.ok), checks };
}
