/**
 * How the CLI speaks: one JSON document on stdout with --json, aligned tables for people,
 * and failures as one line on stderr with a non-zero exit.
 */
import { CommanderError } from '@commander-js/extra-typings';
import { ModelManagerError, toModelManagerError } from '../errors.js';

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

/** Commander's own outcomes that are no failure: help or the version was asked for and printed. */
const COMMANDER_DONE = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * Reports a failure the way every command does, and sets the exit code: `mm: <message> [CODE]` on
 * stderr, and `{error}` on stdout with --json. Commander's usage errors (unknown option, missing
 * argument) are INVALID_ARGUMENT like any other bad input.
 */
export function reportError(error: unknown, json: boolean | undefined): void {
  if (error instanceof CommanderError) {
    if (COMMANDER_DONE.has(error.code)) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = `${error.message.replace(/^error: /, '')} (see --help)`;
    error = new ModelManagerError('INVALID_ARGUMENT', message, { cause: error, details: { reason: error.code } });
  }
  const err = toModelManagerError(error);
  if (json) printJson({ error: err.toJSON() });
  process.stderr.write(`mm: ${err.message.split('\n')[0]} [${err.code}]\n`);
  process.exitCode = err.code === 'INVALID_ARGUMENT' ? 2 : 1;
}

/**
 * A reader that goes away (`mm stats | head -1`) ends the output, not the command: what is left
 * to print is dropped and the command finishes its work (a registry write is never cut short).
 */
export function dropOutputToClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
      throw error;
    });
  }
}
