/**
 * Hub repos made of real generated models (the project's GGUF and ONNX writers), served by the
 * hub stand-in: text files as git files, weights as LFS files, as on the hub.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeTestModel, type TestModelFormat, type TestModelTask } from '../../src/index.js';
import type { HubFile } from './hub-content.js';

/** The files of a folder as the hub serves them: `.json/.md/.txt` as text (git), the rest as bytes (LFS). */
export function folderFiles(dir: string, prefix = ''): Record<string, HubFile> {
  const files: Record<string, HubFile> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const rel = prefix + relative(dir, path).split('\\').join('/');
        files[rel] = /\.(json|md|txt)$/.test(name) ? readFileSync(path, 'utf8') : readFileSync(path);
      }
    }
  };
  walk(dir);
  return files;
}

/** A generated model's files. */
export async function generatedModel(dir: string, format: TestModelFormat, task: TestModelTask, seed = 1): Promise<Record<string, HubFile>> {
  const out = join(dir, `${format}-${task}-${seed}`);
  await writeTestModel({ format, task, out, seed });
  return folderFiles(out);
}

/** An LFS file of `size` random bytes (a random block repeated: cheap to serve at any size). */
export function randomFile(size: number, blockBytes = 1024 * 1024): HubFile {
  return { block: randomBytes(blockBytes), size };
}
