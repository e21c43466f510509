import type { Program } from '../program.js';

interface CommandModule {
  register(program: Program): void;
}

/**
 * Every command by the names it answers to, in the order `mm --help` lists them. A module is
 * imported only when its command runs (or help lists them all): `mm list` need not load the
 * server, the hub client or the inference engines.
 */
const COMMANDS: [names: readonly string[], load: () => Promise<CommandModule>][] = [
  [['list'], () => import('./list.js')],
  [['show'], () => import('./show.js')],
  [['search'], () => import('./search.js')],
  [['stats'], () => import('./stats.js')],
  [['add'], () => import('./add.js')],
  [['update'], () => import('./update.js')],
  [['remove', 'delete'], () => import('./remove.js')],
  [['export'], () => import('./export.js')],
  [['restore', 'import-metadata'], () => import('./restore.js')],
  [['versions'], () => import('./versions.js')],
  [['rollback'], () => import('./rollback.js')],
  [['metric'], () => import('./metric.js')],
  [['clear-cache'], () => import('./clear-cache.js')],
  [['pull'], () => import('./pull.js')],
  [['import'], () => import('./import.js')],
  [['sync'], () => import('./sync.js')],
  [['estimate'], () => import('./estimate.js')],
  [['scan'], () => import('./scan.js')],
  [['discovery'], () => import('./discovery.js')],
  [['validate'], () => import('./validate.js')],
  [['embed'], () => import('./embed.js')],
  [['generate'], () => import('./generate.js')],
  [['ps'], () => import('./ps.js')],
  [['release'], () => import('./release.js')],
  [['testmodel'], () => import('./testmodel.js')],
  [['serve'], () => import('./serve.js')],
  [['config'], () => import('./config.js')],
];

/** Global options that take a value (their value is not a command name). */
const VALUE_OPTIONS = new Set(['--store', '--db']);

/** The command named in `args` (the arguments after `mm`), if any. */
function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (!arg.startsWith('-')) return arg;
    if (VALUE_OPTIONS.has(arg)) i += 1;
  }
  return undefined;
}

/** Registers on `program` the command `args` name, none for `--version`, or every command when they name none we know (help, typos). */
export async function registerCommands(program: Program, args: readonly string[]): Promise<void> {
  const name = commandName(args);
  // `mm --version` needs no command (loading them all took ~0.35 s).
  if (name === undefined && args.some((a) => a === '--version' || a === '-V')) return;
  const named = COMMANDS.find(([names]) => name !== undefined && names.includes(name));
  for (const module of await Promise.all((named ? [named] : COMMANDS).map(([, load]) => load()))) module.register(program);
}
