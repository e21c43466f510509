/**
 * A model card (README.md): its YAML front matter and the first paragraph of its prose. Read
 * the same way by discovery (a README on disk) and the Hugging Face import (a card from the hub
 * or the HF cache), so a model found on disk and the same model imported agree.
 */
import { createRequire } from 'node:module';

/** The YAML parser, loaded on the first front matter that needs it (most are flat: see `parseFlatFrontMatter`). */
let yaml: typeof import('yaml') | undefined;
const yamlParse = (text: string): unknown => (yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text, { maxAliasCount: 100 });

const FRONT_MATTER = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
const PLAIN = /^[A-Za-z0-9_./+][A-Za-z0-9_./+ -]*$/;
const YAML_SPECIAL = /^(true|false|yes|no|on|off|null|~|[-+]?(\.?[0-9][0-9._]*([eE][-+]?[0-9]+)?|\.inf|\.nan))$/i;
/** Blocks that are not prose: headings, HTML, images, tables, code, rules, badges. */
const NOT_PROSE = /^(#|<|!\[|\||```|-{3,}|\[!)/;
/** Longest summary kept, in characters. */
const SUMMARY_CHARS = 500;

export interface FrontMatter {
  /** The front matter's keys (empty when there is none, or it is not a YAML mapping). */
  data: Record<string, unknown>;
  /** The text after the front matter. */
  body: string;
  /** Why the front matter could not be read, when it could not. */
  warning?: string;
}

/**
 * Flat front matter (`key: word`, `key: [a, b]`, `key:` then `- item` lines), the shape of most
 * model cards' metadata, read without the YAML parser (~0.2 ms a README, measured, the second
 * largest cost of a scan). Undefined for anything else, which then goes to YAML.
 */
export function parseFlatFrontMatter(text: string): Record<string, unknown> | undefined {
  // Keys come from the file: in a Map `__proto__` is a key like any other.
  const out = new Map<string, unknown>();
  let listKey: string | undefined;
  const plain = (v: string) => PLAIN.test(v) && !YAML_SPECIAL.test(v.trim());
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const item = /^\s*-\s+(.*?)\s*$/.exec(line);
    if (item) {
      if (listKey === undefined || !plain(item[1]!)) return undefined;
      const items = (out.get(listKey) ?? []) as string[];
      items.push(item[1]!);
      out.set(listKey, items);
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+):(?:[ \t]+(.*?))?\s*$/.exec(line);
    if (!kv) return undefined;
    const [, key, raw] = kv as unknown as [string, string, string | undefined];
    listKey = undefined;
    if (raw === undefined || raw === '') {
      out.set(key, null); // `key:` alone is null in YAML, unless `- items` follow
      listKey = key;
    } else if (raw.startsWith('[') && raw.endsWith(']')) {
      const items = raw.slice(1, -1).split(',').map((v) => v.trim()).filter((v) => v !== '');
      if (!items.every(plain)) return undefined;
      out.set(key, items);
    } else if (plain(raw)) out.set(key, raw);
    else return undefined;
  }
  return Object.fromEntries(out);
}

/** Splits a README into its front matter (parsed) and body; broken YAML is a warning, never an error. */
export function readFrontMatter(text: string): FrontMatter {
  const match = FRONT_MATTER.exec(text);
  if (!match) return { data: {}, body: text.replace(/^\uFEFF/, '') };
  const body = text.slice(match[0].length);
  let parsed: unknown;
  try {
    parsed = parseFlatFrontMatter(match[1]!) ?? yamlParse(match[1]!);
  } catch (error) {
    return { data: {}, body, warning: `front matter is not valid YAML (${(error as Error).message.split('\n')[0]})` };
  }
  const data = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  return { data, body };
}

/** The first paragraph of prose (headings, HTML, images, tables, code and badges skipped), whitespace collapsed, at most 500 characters. */
export function firstParagraph(body: string): string | undefined {
  for (const block of body.split(/\r?\n\s*\r?\n/)) {
    const text = block.trim();
    if (text && !NOT_PROSE.test(text)) return text.replace(/\s+/g, ' ').slice(0, SUMMARY_CHARS);
  }
  return undefined;
}
