/**
 * The `mm` program and its global options; every command is registered on it (commands/index.ts).
 */
import { Command } from '@commander-js/extra-typings';
import { STORE_KINDS } from '../config.js';
import { choiceOption } from './options.js';

/** The program with its global options; commander errors are thrown (main.ts reports them), never printed by commander. */
export function createProgram(version: string) {
  return new Command('mm')
    .description('Model Manager: keep, find, size and run ML models')
    .version(version)
    .option('--json', 'print one JSON document on stdout (logs go to stderr)')
    .addOption(choiceOption('--store <kind>', `registry store: ${STORE_KINDS.join(', ')} (default sqlite) [MM_STORE]`, STORE_KINDS))
    .option('--db <path>', 'registry file, or a postgres:// URL [MM_DB]')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
}

/** The program commands register on. */
export type Program = ReturnType<typeof createProgram>;
/** The global options every command sees (--json, --store, --db). */
export type GlobalOptions = ReturnType<Program['opts']>;
