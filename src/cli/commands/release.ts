import { ModelManager } from '../../runtime/index.js';
import { settingsOf, withSettingsOptions } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';
import { callServer } from './ps.js';

export function register(program: Program): void {
  const release = withSettingsOptions(program.command('release <model>'))
    .description('free a loaded model now (in a running `mm serve` with --server)')
    .option('--server <url>', 'the running server, e.g. http://127.0.0.1:8080')
    .option('--api-key <key>', 'API key of that server')
    .option('--force', 'free it even while references are held');
  release.action(async (model) => {
    const o = release.optsWithGlobals();
    let released: boolean;
    if (o.server) {
      const reply = (await callServer(o, 'POST', `/api/models/${encodeURIComponent(model)}/release`, { force: o.force ?? false })) as { released?: boolean };
      released = reply.released === true;
    } else {
      const manager = await ModelManager.create({ gpuCount: 0, settings: await settingsOf(o) });
      released = await manager.releaseModel(model, { force: o.force ?? false });
      await manager.shutdown();
    }
    if (o.json) return printJson({ model, released, scope: o.server ?? 'process' });
    process.stdout.write(released ? `released ${model}\n` : `${model} was not loaded${o.server ? '' : ' in this process (use --server to release it in `mm serve`)'}\n`);
  });
}
