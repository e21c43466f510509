/**
 * Where a model's files are, host by host. In a registry several hosts share, each copy is a
 * location `{host, path, files, seenAt}`; a record without locations is a single-host one, whose
 * copy is `localPath` on whatever host reads it.
 */
import type { HostLocation, ModelFile, ModelMetadata } from './schema.js';

/**
 * The paths of a model's copies on `host`: its locations there, or `localPath` for a record without
 * locations or when no host is named (a registry of one machine).
 */
export function pathsOn(model: ModelMetadata, host: string | undefined): string[] {
  if (host === undefined || model.locations === undefined) return model.localPath === undefined ? [] : [model.localPath];
  return model.locations.filter((l) => l.host === host).map((l) => l.path);
}

/** True when all of a model's copies are on other hosts than `host`. */
export function onlyElsewhere(model: ModelMetadata, host: string | undefined): boolean {
  return host !== undefined && model.locations !== undefined && pathsOn(model, host).length === 0;
}

/** The path the runtime on `host` loads: its own copy, else `localPath` (which may be a shared folder). */
export function localPathOn(model: ModelMetadata, host: string): string | undefined {
  return model.locations?.find((l) => l.host === host)?.path ?? model.localPath;
}

/** Same copy, same files: nothing to record. */
function sameCopy(a: HostLocation, b: HostLocation): boolean {
  return a.host === b.host && a.path === b.path && JSON.stringify(a.files) === JSON.stringify(b.files);
}

/** The model with `location` recorded (replacing the copy at the same host and path); the same object when it was already there unchanged. */
export function withLocation(model: ModelMetadata, location: HostLocation): ModelMetadata {
  const existing = model.locations ?? [];
  if (existing.some((l) => sameCopy(l, location))) return model;
  return { ...model, locations: [...existing.filter((l) => !(l.host === location.host && l.path === location.path)), location] };
}

/**
 * The model without its copies at `paths` on `host`. When copies elsewhere remain and `localPath`
 * was one of those gone, `localPath` and `files` move to the first that remains.
 */
export function withoutLocations(model: ModelMetadata, host: string, paths: readonly string[]): ModelMetadata {
  const gone = new Set(paths);
  const remaining = (model.locations ?? []).filter((l) => !(l.host === host && gone.has(l.path)));
  const next: ModelMetadata = { ...model, locations: remaining };
  const first = remaining[0];
  if (first && model.localPath !== undefined && gone.has(model.localPath) && (model.locations ?? []).some((l) => l.host === host && l.path === model.localPath)) {
    next.localPath = first.path;
    next.files = first.files;
  }
  return next;
}

/**
 * Weight files (by the extensions discovery reads as weights) and Ollama blobs, which are named by
 * their digest (the model layer and the layers beside it, all alike).
 */
const WEIGHTS_NAME = /(\.(safetensors|gguf|onnx|onnx_data|onnx\.data|bin|pt|pth|ckpt|ggml)|(^|[\\/])sha256-[0-9a-f]{64})$/i;

/**
 * What the weight files of a copy are, as the sorted set of their sha256s: equal for two copies of
 * the same weights, whatever their folders or names. Undefined when a copy has no weight files or
 * any of them has no sha256 (a part of a set never stands for the whole).
 */
export function weightHashesOf(files: readonly Pick<ModelFile, 'path' | 'sha256'>[]): string | undefined {
  const weights = files.filter((f) => WEIGHTS_NAME.test(f.path));
  if (weights.length === 0 || weights.some((f) => f.sha256 === undefined)) return undefined;
  return [...new Set(weights.map((f) => f.sha256!.toLowerCase()))].sort().join(',');
}
