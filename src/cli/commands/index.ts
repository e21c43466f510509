import type { Command } from 'commander';
import * as add from './add.js';
import * as clearCache from './clear-cache.js';
import * as embed from './embed.js';
import * as estimate from './estimate.js';
import * as discovery from './discovery.js';
import * as exportCmd from './export.js';
import * as generate from './generate.js';
import * as importCmd from './import.js';
import * as list from './list.js';
import * as metric from './metric.js';
import * as ps from './ps.js';
import * as release from './release.js';
import * as remove from './remove.js';
import * as restore from './restore.js';
import * as rollback from './rollback.js';
import * as scan from './scan.js';
import * as search from './search.js';
import * as serve from './serve.js';
import * as show from './show.js';
import * as stats from './stats.js';
import * as sync from './sync.js';
import * as testmodel from './testmodel.js';
import * as update from './update.js';
import * as validate from './validate.js';
import * as versions from './versions.js';

/** Every command, in the order `mm --help` lists them. */
export const COMMANDS: ((program: Command) => void)[] = [
  list.register, show.register, search.register, stats.register, add.register, update.register, remove.register,
  exportCmd.register, restore.register, versions.register, rollback.register, metric.register, clearCache.register,
  importCmd.register, sync.register, estimate.register, scan.register, discovery.register, validate.register,
  embed.register, generate.register, ps.register, release.register,
  testmodel.register,
  serve.register,
];
