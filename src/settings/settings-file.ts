/**
 * Reading a settings file (YAML, or JSON, which YAML reads too) into the settings tree, keeping
 * the line of every key: nested keys and the seed's flat dotted keys (`models.embedding.device`)
 * land on the same paths, so a refused value is reported at the line that wrote it.
 */
import { readFile } from 'node:fs/promises';
import { isAlias, isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ModelManagerError } from '../errors.js';
import { settingKey, type SettingsTree } from './settings-tree.js';

/** Largest settings file read; a settings file is a page of text, not data. */
const MAX_SETTINGS_BYTES = 1024 * 1024;

/**
 * Writes the settings of `file` into `tree`.
 * @returns false when the file does not exist and `optional` is set
 * @throws INVALID_CONFIG for a file that cannot be read or parsed, naming the line
 */
export async function readSettingsFile(file: string, tree: SettingsTree, { optional = false } = {}): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_CONFIG';
    throw new ModelManagerError(code, `cannot read the settings file ${file}: ${(error as Error).message}`, { details: { file }, cause: error });
  }
  if (text.length > MAX_SETTINGS_BYTES) {
    throw new ModelManagerError('INVALID_CONFIG', `${file} is over ${MAX_SETTINGS_BYTES} bytes: a settings file holds settings only`, { details: { file } });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const [error] = doc.errors;
  if (error) {
    const { line } = lines.linePos(error.pos[0]);
    throw new ModelManagerError('INVALID_CONFIG', `${file}:${line}: ${error.message.split('\n')[0]}`, { details: { file, line }, cause: error });
  }
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return true;
  if (!isMap(root)) throw new ModelManagerError('INVALID_CONFIG', `${file}:${lineOf(root)}: a settings file is a mapping of keys to values`, { details: { file } });

  const walk = (map: Node, path: readonly string[]) => {
    if (!isMap(map)) return;
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null;
      const line = lineOf(keyNode);
      const origin = { source: 'file' as const, file, line };
      const written = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof written !== 'string' && typeof written !== 'number') {
        throw new ModelManagerError('INVALID_CONFIG', `${file}:${line}: a setting's key must be a name`, { details: { file, line } });
      }
      const keyPath = [...path];
      try {
        for (const part of String(written).split('.')) keyPath.push(settingKey(part, keyPath));
      } catch (cause) {
        throw new ModelManagerError('INVALID_CONFIG', `${file}:${line}: ${(cause as Error).message}`, { details: { file, line }, cause });
      }
      const value = resolved(pair.value as Node | null, doc);
      if (isMap(value)) {
        tree.markObject(keyPath, origin);
        walk(value, keyPath);
      } else {
        tree.set(keyPath, value === null ? null : value.toJS(doc), origin, { once: true });
      }
    }
  };
  walk(root, []);
  return true;
}

/** The node an alias (`*name`) stands for. */
function resolved(node: Node | null, doc: Document): Node | null {
  if (node && isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
  return node;
}
