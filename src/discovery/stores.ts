/**
 * Model stores with a layout of their own: the Hugging Face cache (`models--org--name/snapshots/<rev>`)
 * and Ollama (`manifests/<host>/<namespace>/<model>/<tag>` -> `blobs/sha256-...`).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoIdOfCacheFolder, snapshotOfRepoFolder } from '../hub/cache.js';
import { classifyFolder, idFromPath } from './classify.js';
import { listFolder, statFile, type Listing, type WarningSink } from './fs-scan.js';
import type { FoundFile, ModelUnit } from './types.js';

interface StoreContext {
  root: string;
  formats: Set<string>;
  warnings: WarningSink;
  isExcluded: (name: string, path: string) => boolean;
}

/** True for a folder of the HF cache that holds one repo's snapshots. */
export function isHfCacheRepo(name: string, listing: Listing): boolean {
  return /^models--.+/.test(name) && listing.dirs.has('snapshots');
}

/** The models of one HF cache repo folder, read from the snapshot `main` names (hub/cache.ts decides which); ids are the repo id. */
export function hfCacheUnits(repoDir: string, ctx: StoreContext): ModelUnit[] {
  const repoId = repoIdOfCacheFolder(basename(repoDir));
  const snapshots = listFolder(join(repoDir, 'snapshots'), ctx.isExcluded, ctx.warnings);
  const snapshot = snapshots && snapshotOfRepoFolder(repoDir, { snapshots: snapshots.dirs })?.path;
  if (!snapshot) {
    ctx.warnings.add(repoDir, 'HF cache repo without snapshots (incomplete download?)');
    return [];
  }
  const listing = listFolder(snapshot, ctx.isExcluded, ctx.warnings);
  if (!listing) return [];
  const onnxDir = listing.dirs.get('onnx');
  const onnxListing = onnxDir ? listFolder(onnxDir, ctx.isExcluded, ctx.warnings) : undefined;
  const onnxFiles = onnxListing ? [...onnxListing.files.values()] : [];
  const classify = (dir: string, folder: Listing, onnx: string[] = []) => classifyFolder({ dir, root: snapshot, listing: folder, warnings: ctx.warnings, formats: ctx.formats }, onnx).units;
  const units = classify(snapshot, listing, onnxFiles);
  // A diffusers pipeline (model_index.json) keeps its components in subfolders (unet/, vae/,
  // text_encoder/): each is a model, as the walk finds them in a pipeline folder outside the cache.
  if (listing.files.has('model_index.json')) {
    for (const dir of listing.dirs.values()) {
      const component = listFolder(dir, ctx.isExcluded, ctx.warnings);
      if (component) units.push(...classify(dir, component));
    }
  }
  if (units.length === 0) ctx.warnings.add(snapshot, `no weight files in the snapshot of ${repoId} that main names (incomplete download?)`);
  for (const u of units) {
    u.kind = 'hf-cache';
    u.root = ctx.root;
    u.idHint = units.length === 1 ? repoId : `${repoId}/${idFromPath(snapshot, u.localPath, true)}`;
  }
  return units;
}

/** True for an Ollama models folder. */
export function isOllamaStore(listing: Listing): boolean {
  return listing.dirs.has('manifests') && listing.dirs.has('blobs');
}

interface OllamaManifest {
  layers?: { mediaType?: string; digest?: string }[];
}

const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';

/** One model per manifest (`<host>/<namespace>/<model>/<tag>`); its model layer is a GGUF blob. */
export function ollamaUnits(storeDir: string, ctx: StoreContext): ModelUnit[] {
  const units: ModelUnit[] = [];
  const blobs = join(storeDir, 'blobs');
  const walk = (dir: string, parts: string[]) => {
    const listing = listFolder(dir, ctx.isExcluded, ctx.warnings);
    if (!listing) return;
    if (parts.length < 3) for (const [name, path] of listing.dirs) walk(path, [...parts, name]);
    if (parts.length !== 3) return;
    const [host, namespace, model] = parts as [string, string, string];
    for (const [tag, path] of listing.files) {
      let manifest: OllamaManifest;
      const manifestFile = statFile(path, 'manifest', ctx.warnings);
      if (!manifestFile) continue;
      try {
        manifest = JSON.parse(readFileSync(path, 'utf8')) as OllamaManifest;
      } catch (error) {
        ctx.warnings.add(path, `Ollama manifest is not JSON: ${(error as Error).message}`);
        continue;
      }
      const layers = (manifest.layers ?? []).flatMap((l) => (l.mediaType && l.digest ? [{ mediaType: l.mediaType, path: join(blobs, l.digest.replace(':', '-')) }] : []));
      const modelLayer = layers.find((l) => l.mediaType === OLLAMA_MODEL_LAYER);
      if (!modelLayer) {
        ctx.warnings.add(path, 'Ollama manifest has no model layer');
        continue;
      }
      const files: FoundFile[] = [manifestFile];
      let complete = true;
      for (const layer of layers) {
        const f = statFile(layer.path, layer.mediaType === OLLAMA_MODEL_LAYER || layer.mediaType.endsWith('.projector') ? 'weights' : 'other', ctx.warnings);
        if (f) files.push(f);
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
