import type { Command } from 'commander';
import { config } from '../../config.js';
import { describeOrigin } from '../../settings/index.js';
import { action, optionsOf, settingsOf, withSettingsOptions, type SettingsOptions } from '../context.js';
import { printJson, printTable } from '../output.js';

export function register(program: Command): void {
  const configCommand = program.command('config').description('the settings of the runtime and its configured models');
  withSettingsOptions(configCommand.command('show'))
    .description('the effective settings, and where each value came from: default, file (with its line), env or flag')
    .action(
      action(async (command) => {
        const o = optionsOf<SettingsOptions>(command);
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
      }),
    );
}
