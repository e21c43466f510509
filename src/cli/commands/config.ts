import { config } from '../../config.js';
import { describeOrigin } from '../../settings/index.js';
import { settingsOf, withSettingsOptions } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const configCommand = program.command('config').description('the settings of the runtime and its configured models');
  const show = withSettingsOptions(configCommand.command('show'))
    .description('the effective settings, and where each value came from: default, file (with its line), env or flag');
  show.action(async () => {
    const o = show.optsWithGlobals();
    const settings = await settingsOf(o);
    if (o.json) {
      return printJson({
        file: settings.file ?? null,
        settings: settings.values,
        entries: settings.entries.map(({ key, value, origin }) => ({ key, value, ...origin })),
      });
    }
    process.stderr.write(settings.file ? `settings file: ${settings.file}\n` : `no settings file (${config().settingsFile} is not there): defaults and environment only\n`);
    printTable(['KEY', 'VALUE', 'SOURCE'], settings.entries.map(({ key, value, origin }) => [
      key, typeof value === 'string' ? value : JSON.stringify(value), origin.source === 'default' ? 'default' : `${origin.source} ${describeOrigin(origin)}`,
    ]));
  });
}
