/**
 * Model stores with a layout of their own: the Hugging Face cache (`models--org--name/snapshots/<rev>`)
 * and Ollama (`manifests/<host>/<namespace>/<model>/<tag>` -> `blobs/sha256-...`).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { realPathWithin } from '../formats/confine.js';
import { repoIdOfCacheFolder, snapshotOfRepoFolder } from '../hub/cache.js';
import { classifyFolder, idFromPath } from './classify.js';
import { listFolder, OUTSIDE_ROOT, statFile, type Listing, type ListingContext } from './fs-scan.js';
import type { FoundFile, ModelUnit } from './types.js';

interface StoreContext extends ListingContext {
  root: string;
  formats: Set<string>;
}

/** True for a folder of the HF cache that holds one repo's snapshots. */
export function isHfCacheRepo(name: string, listing: Listing): boolean {
  return /^models--.+/.test(name) && listing.dirs.has('snapshots');
}

/** The models of one HF cache repo folder, read from the snapshot `main` names (hub/cache.ts decides which); ids are the repo id. */
export function hfCacheUnits(repoDir: string, ctx: StoreContext): ModelUnit[] {
  const repoId = repoIdOfCacheFolder(basename(repoDir));
  const snapshots = listFolder(join(repoDir, 'snapshots'), ctx);
  const snapshot = snapshots && snapshotOfRepoFolder(repoDir, { snapshots: snapshots.dirs })?.path;
  if (!snapshot) {
    ctx.warnings.add(repoDir, 'HF cache repo without snapshots (incomplete download?)');
    return [];
  }
  const listing = listFolder(snapshot, ctx);
  if (!listing) return [];
  const onnxDir = listing.dirs.get('onnx');
  const onnxListing = onnxDir ? listFolder(onnxDir, ctx) : undefined;
  const onnxFiles = onnxListing ? [...onnxListing.files.values()] : [];
  const classify = (dir: string, folder: Listing, onnx: string[] = []) => classifyFolder({ dir, root: snapshot, listing: folder, warnings: ctx.warnings, formats: ctx.formats }, onnx).units;
  const units = classify(snapshot, listing, onnxFiles);
  // A diffusers pipeline (model_index.json) keeps its components in subfolders (unet/, vae/,
  // text_encoder/): each is a model, as the walk finds them in a pipeline folder outside the cache.
  if (listing.files.has('model_index.json')) {
    for (const dir of listing.dirs.values()) {
      const component = listFolder(dir, ctx);
      if (component) units.push(...classify(dir, component));
    }
  }
  if (units.length === 0) ctx.warnings.add(snapshot, `no weight files in the snapshot of ${repoId} that main names (incomplete download?)`);
  for (const u of units) {
    u.kind = 'hf-cache';
    u.root = ctx.root;
    u.idHint = units.length === 1 ? repoId : `${repoId}/${idFromPath(snapshot, u.localPath, true)}`;
    for (const f of u.files) {
      const sha256 = cachedBlobSha256(f.path);
      if (sha256 !== undefined) f.sha256 = sha256;
    }
  }
  return units;
}

/** A sha256 as a blob's name spells it: 64 hex digits. */
const SHA256_NAME = /^[0-9a-f]{64}$/;

/**
 * The sha256 of a snapshot file, read from the name of the blob its link leads to (no byte of the
 * file is read): the hub names a blob by its etag, which for an LFS file is its sha256 (64 hex
 * digits) and for a plain git file a git sha1 (40). Undefined for a file that is no such link.
 */
function cachedBlobSha256(path: string): string | undefined {
  let target: string;
  try {
    target = readlinkSync(path);
  } catch {
    return undefined;
  }
  const name = basename(target);
  return SHA256_NAME.test(name) ? name : undefined;
}

/** True for an Ollama models folder. */
export function isOllamaStore(listing: Listing): boolean {
  return listing.dirs.has('manifests') && listing.dirs.has('blobs');
}

interface OllamaManifest {
  layers?: unknown;
}

const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Manifests are a few hundred bytes. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** One model per manifest (`<host>/<namespace>/<model>/<tag>`); its model layer is a GGUF blob. */
export function ollamaUnits(storeDir: string, ctx: StoreContext): ModelUnit[] {
  const units: ModelUnit[] = [];
  const blobs = join(storeDir, 'blobs');
  const walk = (dir: string, parts: string[]) => {
    const listing = listFolder(dir, ctx);
    if (!listing) return;
    if (parts.length < 3) for (const [name, path] of listing.dirs) walk(path, [...parts, name]);
    if (parts.length !== 3) return;
    const [host, namespace, model] = parts as [string, string, string];
    for (const [tag, path] of listing.files) {
      let manifest: OllamaManifest;
      const manifestFile = statFile(path, 'manifest', ctx.warnings);
      if (!manifestFile) continue;
      if (manifestFile.size > MAX_MANIFEST_BYTES) {
        ctx.warnings.add(path, `Ollama manifest larger than ${MAX_MANIFEST_BYTES} bytes; not read`);
        continue;
      }
      try {
        manifest = JSON.parse(readFileSync(path, 'utf8')) as OllamaManifest;
      } catch (error) {
        ctx.warnings.add(path, `Ollama manifest is not JSON: ${(error as Error).message}`);
        continue;
      }
      const given = (Array.isArray(manifest?.layers) ? manifest.layers : []) as ({ mediaType?: unknown; digest?: unknown } | null)[];
      // A digest names a blob: anything but sha256:<hex> could name a path out of blobs/.
      if (given.some((l) => typeof l?.digest === 'string' && !DIGEST.test(l.digest))) {
        ctx.warnings.add(path, 'Ollama manifest names a layer whose digest is not sha256:<64 hex digits>; skipped');
        continue;
      }
      const layers = given.flatMap((l) => (typeof l?.mediaType === 'string' && typeof l.digest === 'string' ? [{ mediaType: l.mediaType, path: join(blobs, l.digest.replace(':', '-')) }] : []));
      const modelLayer = layers.find((l) => l.mediaType === OLLAMA_MODEL_LAYER);
      if (!modelLayer) {
        ctx.warnings.add(path, 'Ollama manifest has no model layer');
        continue;
      }
      const files: FoundFile[] = [manifestFile];
      let complete = true;
      for (const layer of layers) {
        if (ctx.inside !== undefined && realPathWithin(layer.path, ctx.inside) === 'outside') {
          ctx.warnings.add(layer.path, OUTSIDE_ROOT);
          complete = false;
          continue;
        }
        const f = statFile(layer.path, layer.mediaType === OLLAMA_MODEL_LAYER || layer.mediaType.endsWith('.projector') ? 'weights' : 'other', ctx.warnings);
        // Ollama names a blob by its digest (checked above to be sha256:<hex>).
        if (f) files.push({ ...f, sha256: basename(layer.path).slice('sha256-'.length) });
        else complete = false;
      }
      if (!complete) continue;
      const name = namespace === 'library' && host === 'registry.ollama.ai' ? model : `${host}/${namespace}/${model}`;
      const idHint = `ollama/${name}:${tag}`.replace(/[^A-Za-z0-9_.:+/-]+/g, '-');
      units.push({ kind: 'ollama', localPath: path, root: ctx.root, idHint, files, ollama: { name, tag, layers } });
    }
  };
  walk(join(storeDir, 'manifests'), []);
  return units;
}
