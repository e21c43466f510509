/**
 * The `mm` command line. Built only on the public API (src/index.ts); one file per command.
 */
import { readFileSync } from 'node:fs';
import { registerCommands } from './commands/index.js';
import { dropOutputToClosedPipes, reportError } from './output.js';
import { createProgram } from './program.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** --json anywhere before `--`: known before commander has parsed (it may fail to). */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

const args = process.argv.slice(2);
dropOutputToClosedPipes();
try {
  const program = createProgram(pkg.version);
  await registerCommands(program, args);
  await program.parseAsync(process.argv);
} catch (error) {
  reportError(error, wantsJson(args));
}
