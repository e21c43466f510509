/**
 * How the CLI speaks: one JSON document on stdout with --json, aligned tables for people,
 * and failures as one line on stderr with a non-zero exit.
 */
import { toModelManagerError } from '../errors.js';

export interface GlobalOptions {
  json?: boolean;
  store?: string;
  db?: string;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned table with a header; empty cells for missing values. */
export function printTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = [columns.map(String), ...rows.map((r) => columns.map((_, i) => (r[i] === undefined || r[i] === null ? '' : String(r[i]))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${cells.map(line).join('\n')}\n`);
}

/** Prints `key: value` lines for one record. */
export function printFields(fields: readonly (readonly [string, unknown])[]): void {
  const shown = fields.filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0));
  const width = Math.max(...shown.map(([k]) => k.length));
  for (const [key, value] of shown) {
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    process.stdout.write(`${`${key}:`.padEnd(width + 2)}${text}\n`);
  }
}

/** Reports a failure the way every command does, and sets the exit code. */
export function reportError(error: unknown, json: boolean | undefined): void {
  const err = toModelManagerError(error);
  if (json) printJson({ error: err.toJSON() });
  process.stderr.write(`mm: ${err.message.split('\n')[0]} [${err.code}]\n`);
  process.exitCode = err.code === 'INVALID_ARGUMENT' ? 2 : 1;
}
