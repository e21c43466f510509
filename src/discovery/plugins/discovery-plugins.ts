/**
 * The plugins of a Discovery, and how one scan uses them: every call time-limited, a plugin that
 * throws or runs out of time named in a warning (a plugin that keeps running out of time is left
 * out for the rest of the scan), and what a plugin returns validated as a model record before it
 * goes the way of every model found (categorised, sized, added or merged).
 */
import { basename, extname } from 'node:path';
import { isModelManagerError, ModelManagerError } from '../../errors.js';
import { validateModel, type ModelMetadataInput } from '../../registry/index.js';
import { idFromPath } from '../classify.js';
import { describeFindings, type Description } from '../describe.js';
import { statFile, type WarningSink } from '../fs-scan.js';
import type { Findings } from '../read-findings.js';
import type { CategorizationRules } from '../rules.js';
import type { ModelUnit } from '../types.js';
import { checkPlugin } from './load-plugins.js';
import type { DiscoveryPlugin, PluginCallContext, PluginMetadata } from './plugin.js';
import { PluginReads } from './plugin-files.js';

/** Calls of one plugin that may run out of time in a scan before it is left out for the rest of it. */
const TIMEOUTS_BEFORE_SKIPPING = 3;

export class DiscoveryPlugins {
  readonly #plugins: DiscoveryPlugin[] = [];
  /** How long one call of a plugin may take. */
  readonly timeoutMs: number;

  constructor(plugins: readonly DiscoveryPlugin[], { timeoutMs }: { timeoutMs: number }) {
    this.timeoutMs = timeoutMs;
    for (const plugin of plugins) this.register(plugin);
  }

  /** Adds a plugin; it is asked after those before it. @throws INVALID_ARGUMENT for an object that is no plugin, or a name already taken */
  register(plugin: DiscoveryPlugin): void {
    checkPlugin(plugin, 'the plugin');
    if (this.#plugins.some((p) => p.name === plugin.name)) {
      throw new ModelManagerError('INVALID_ARGUMENT', `a discovery plugin named "${plugin.name}" is already registered: give each plugin its own name`, { details: { plugin: plugin.name } });
    }
    this.#plugins.push(plugin);
  }

  /** What one scan needs of the plugins; undefined when there are none (a scan then offers them nothing). */
  session(warnings: WarningSink): PluginScan | undefined {
    return this.#plugins.length === 0 ? undefined : new PluginScan([...this.#plugins], this.timeoutMs, warnings);
  }
}

class PluginTimeout extends Error {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** The plugins within one scan: which are still asked, and the bytes they read while claiming files. */
export class PluginScan {
  readonly #plugins: DiscoveryPlugin[];
  readonly #timeoutMs: number;
  readonly #warnings: WarningSink;
  readonly #timeouts = new Map<string, number>();
  /** Bytes `canHandle` read for the file it claimed, counted with the rest of that model's reads. */
  readonly #claimBytes = new Map<string, number>();

  constructor(plugins: DiscoveryPlugin[], timeoutMs: number, warnings: WarningSink) {
    this.#plugins = plugins;
    this.#timeoutMs = timeoutMs;
    this.#warnings = warnings;
  }

  #skipped(plugin: DiscoveryPlugin): boolean {
    return (this.#timeouts.get(plugin.name) ?? 0) >= TIMEOUTS_BEFORE_SKIPPING;
  }

  /**
   * Runs one method of a plugin on `path` within the time limit, with bounded reads that are closed
   * when it ends. @throws ModelManagerError naming the plugin and the method when it throws or runs out of time
   */
  async #call<T>(plugin: DiscoveryPlugin, method: keyof DiscoveryPlugin, path: string, root: string, run: (context: PluginCallContext) => T | PromiseLike<T>): Promise<{ value: T; bytesRead: number }> {
    const reads = new PluginReads();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = run({ files: reads.files, root, signal: controller.signal });
      // A plain value needs no timer (canHandle of each file is mostly a name test).
      const value = isThenable(result)
        ? await Promise.race([result, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new PluginTimeout()), this.#timeoutMs)))])
        : result;
      return { value, bytesRead: reads.bytesRead };
    } catch (error) {
      if (error instanceof PluginTimeout) {
        controller.abort();
        const timeouts = (this.#timeouts.get(plugin.name) ?? 0) + 1;
        this.#timeouts.set(plugin.name, timeouts);
        const skipping = timeouts === TIMEOUTS_BEFORE_SKIPPING ? `; after ${timeouts} calls that ran out of time it is left out for the rest of this scan` : '';
        throw new ModelManagerError('TASK_FAILED', `discovery plugin "${plugin.name}" did not finish ${method}() within ${this.#timeoutMs / 1000} s${skipping}`, {
          details: { path, plugin: plugin.name, method, timeoutMs: this.#timeoutMs },
        });
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelManagerError('TASK_FAILED', `discovery plugin "${plugin.name}" failed in ${method}(): ${reason}`, { cause: error, details: { path, plugin: plugin.name, method } });
    } finally {
      clearTimeout(timer);
      // Whatever the plugin still does after its time is up reads nothing more.
      reads.close();
    }
  }

  /** The models plugins make of `files` (found under `root`, taken by no built-in reader): each file goes to the first plugin that can handle it. */
  async claim(files: readonly string[], root: string): Promise<ModelUnit[]> {
    const units: ModelUnit[] = [];
    for (const path of files) {
      for (const plugin of this.#plugins) {
        if (this.#skipped(plugin)) continue;
        let answer: { value: boolean; bytesRead: number };
        try {
          answer = await this.#call(plugin, 'canHandle', path, root, (context) => plugin.canHandle(path, context));
        } catch (error) {
          this.#warnings.add(path, (error as Error).message);
          continue;
        }
        if (answer.value !== true) continue;
        const file = statFile(path, 'weights', this.#warnings);
        if (file) {
          this.#claimBytes.set(path, answer.bytesRead);
          units.push({ kind: 'plugin', plugin: plugin.name, localPath: path, root, idHint: idFromPath(root, path, true), files: [file] });
        }
        break;
      }
    }
    return units;
  }

  /**
   * The registry fields of a model a plugin claimed: its metadata and modalities, checked as a
   * model record, categorised by the rules and sized like any model found.
   * @throws ModelManagerError naming the plugin (the scan makes it a warning): the plugin threw, ran out of time, or returned an invalid record
   */
  async describe(unit: ModelUnit, rules: CategorizationRules): Promise<Description> {
    const plugin = this.#plugins.find((p) => p.name === unit.plugin);
    const path = unit.localPath;
    if (!plugin || this.#skipped(plugin)) {
      throw new ModelManagerError('TASK_FAILED', `discovery plugin "${unit.plugin}" was left out of this scan after its calls ran out of time`, { details: { path, plugin: unit.plugin } });
    }
    const metadata = await this.#call(plugin, 'extractMetadata', path, unit.root, (context) => plugin.extractMetadata(path, context));
    const modalities = await this.#call(plugin, 'detectModalities', path, unit.root, (context) => plugin.detectModalities(path, context));
    const given: unknown = metadata.value;
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      throw invalidRecord(plugin, path, 'extractMetadata() must return an object of registry fields');
    }
    // The scan's own facts about the file win over what the plugin says of them.
    const { modelId, localPath: _path, files: _files, source: _source, status: _status, ...fields } = given as PluginMetadata;
    const custom: unknown = fields.custom ?? {};
    if (custom === null || typeof custom !== 'object' || Array.isArray(custom)) throw invalidRecord(plugin, path, 'custom: must be an object');
    const mods = modalities.value as ModelMetadataInput['modalities'];
    const found = {
      modelName: basename(path, extname(path)),
      description: '',
      modelType: Array.isArray(mods) && mods.includes('image') ? 'vision_model' : Array.isArray(mods) && mods.includes('audio') ? 'audio_model' : 'language_model',
      ...fields,
      modalities: mods,
      custom: { ...custom, discoveryPlugin: plugin.name },
      localPath: path,
      files: unit.files.map((f) => ({ path: f.path, size: f.size, mtimeMs: f.mtimeMs })),
      source: 'discovered' as const,
      status: 'available' as const,
    };
    try {
      validateModel({ ...found, modelId: typeof modelId === 'string' ? modelId : unit.idHint });
    } catch (error) {
      if (!isModelManagerError(error, 'INVALID_METADATA')) throw error;
      const issues = (error.details.issues as { field: string; reason: string }[] | undefined) ?? [];
      throw invalidRecord(plugin, path, issues.map((i) => `${i.field}: ${i.reason}`).join('; '));
    }
    const findings = {
      fields: found,
      evidence: {
        text: [unit.idHint, basename(path), found.modelName, found.architecture ?? '', ...(found.tags ?? []), found.description ?? ''],
        fileNames: [basename(path)],
        modalities: found.modalities ?? [],
        capabilities: found.capabilities ?? [],
      },
      overrides: typeof modelId === 'string' ? { modelId } : {},
      bytesRead: (this.#claimBytes.get(path) ?? 0) + metadata.bytesRead + modalities.bytesRead,
      estimate: found.parameterCount === undefined ? {} : { parameterCount: found.parameterCount, parameterMethod: `plugin ${plugin.name}` },
    } as Findings;
    const described = describeFindings(findings, rules);
    // A category the plugin gives is its word on the model, over what the rules guess.
    if (found.category) described.fields.category = found.category;
    return described;
  }
}

function invalidRecord(plugin: DiscoveryPlugin, path: string, reason: string): ModelManagerError {
  return new ModelManagerError('INVALID_METADATA', `discovery plugin "${plugin.name}" returned invalid metadata: ${reason}`, { details: { path, plugin: plugin.name } });
}
