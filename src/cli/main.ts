/**
 * The `mm` command line. Built only on the public API (src/index.ts); one file per command.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The program with the commands `args` need (all of them for help or an unknown command). */
export async function buildProgram(args: readonly string[] = process.argv.slice(2)): Promise<Command> {
  const program = new Command('mm')
    .description('Model Manager: keep, find, size and run ML models')
    .version(pkg.version)
    .option('--json', 'print one JSON document on stdout (logs go to stderr)')
    .option('--store <kind>', 'registry store: sqlite (default), json, duckdb [MM_STORE]')
    .option('--db <path>', 'registry file [MM_DB]')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });
  await registerCommands(program, args);
  return program;
}

await (await buildProgram()).parseAsync(process.argv);
