/**
 * Discovery: finds models on disk and keeps the registry in step with them, by scans on demand,
 * at an interval, and (optionally) when a root changes.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { config as processConfig, type Config } from '../config.js';
import { ModelManagerError, toModelManagerError } from '../errors.js';
import { pathsOn, validateModel, type ModelMetadata, type ModelMetadataInput, type Registry } from '../registry/index.js';
import { describeUnit } from './describe.js';
import { findModelUnit } from './describe-path.js';
import { WarningSink } from './fs-scan.js';
import { mergeFindingOn, newRecordOn } from './host-copies.js';
import { loadCategorizationRules } from './rules-file.js';
import type { CategorizationRules } from './rules.js';
import { DiscoveryPlugins } from './plugins/discovery-plugins.js';
import { loadPlugins } from './plugins/load-plugins.js';
import type { DiscoveryPlugin } from './plugins/plugin.js';
import { runScan } from './scan.js';
import { loadDiscoverySettings, type DiscoverySettings } from './settings.js';
import { DiscoveryState, fingerprint } from './state.js';
import type { DiscoveryStatus, ScanLogEntry, ScanProgress, ScanReport, ValidationReport } from './types.js';
import { contestedPaths, valuesSetByMachine } from '../registry/field-origin.js';
import { DISCOVERY_CHANGES } from './change-notes.js';
import { copyOnly, findingOf, KnownModels, placeCopy, requestedId } from './upsert.js';
import { validateModelFiles } from './validate.js';

export interface DiscoveryOptions {
  registry: Registry;
  /** Roots to scan. Defaults to ./models, the HF cache, the Ollama and LM Studio stores (those that exist), plus the settings' `roots`. */
  roots?: string[];
  /** `model_discovery.json`. Defaults to `MM_HOME/model_discovery.json` when it exists. */
  settingsPath?: string;
  /** `model_categorization.json`. Defaults to `MM_HOME/model_categorization.json` when it exists, else the shipped rules. */
  rulesPath?: string;
  /** Settings that win over the file's. Defaults to none. */
  settings?: Partial<DiscoverySettings>;
  /** Folder of the scan index and logs. Defaults to `MM_HOME/discovery`. */
  stateDir?: string;
  /** Where defaults come from. Defaults to the process environment. */
  config?: Config;
  /** Header reader threads for a scan of more than 500 changed models (they end with the scan; the main thread walks and writes the registry meanwhile). Defaults to one fewer than `os.availableParallelism()`, at least 1; 0 reads on the main thread only. */
  workers?: number;
  /** Discovery plugins, asked after those the settings file names. Defaults to none. */
  plugins?: DiscoveryPlugin[];
  /**
   * This host, when several hosts share the registry: each host's copy of a model is kept as a location, and a scan
   * here drops and marks missing only this host's copies. Defaults to `MM_HOST_ID` (else the hostname) when the
   * registry's store is shared (postgres), else none: a model's one copy is its `localPath`.
   */
  hostId?: string;
}

export interface RefreshOptions {
  /** Roots to scan this time. Defaults to the configured roots. */
  roots?: string[];
  onProgress?: (p: ScanProgress) => void;
}

export class Discovery implements AsyncDisposable {
  readonly registry: Registry;
  readonly settings: DiscoverySettings;
  readonly rules: CategorizationRules;
  readonly #state: DiscoveryState;
  readonly #config: Config;
  readonly #roots: string[] | undefined;
  readonly #workers: number | undefined;
  readonly #plugins: DiscoveryPlugins;
  readonly #host: string | undefined;
  #running: Promise<ScanReport> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #nextScanAt: Date | undefined;
  #watchers: FSWatcher[] = [];
  #watchDebounce: NodeJS.Timeout | undefined;

  private constructor(registry: Registry, settings: DiscoverySettings, rules: CategorizationRules, state: DiscoveryState, config: Config, roots: string[] | undefined, workers: number | undefined, plugins: DiscoveryPlugins, host: string | undefined) {
    this.registry = registry;
    this.settings = settings;
    this.rules = rules;
    this.#state = state;
    this.#config = config;
    this.#roots = roots?.map((r) => resolve(r));
    this.#workers = workers;
    this.#plugins = plugins;
    this.#host = host;
  }

  /** Loads settings, rules and plugins and opens the scan state. @throws INVALID_CONFIG for a bad settings or rules file, or a plugin that cannot be loaded */
  static async create({ registry, roots, settingsPath, rulesPath, settings, stateDir, config = processConfig(), workers, plugins = [], hostId }: DiscoveryOptions): Promise<Discovery> {
    const settingsFile = settingsPath ?? join(config.home, 'model_discovery.json');
    const loaded = await loadDiscoverySettings(settingsFile, { optional: settingsPath === undefined, overrides: settings });
    const loadedPlugins = await loadPlugins(loaded.plugins, dirname(resolve(settingsFile)));
    const allPlugins = new DiscoveryPlugins([...loadedPlugins, ...plugins], { timeoutMs: loaded.pluginTimeoutSeconds * 1000 });
    const rules = await loadCategorizationRules(rulesPath ?? join(config.home, 'model_categorization.json'), { optional: rulesPath === undefined });
    const state = await DiscoveryState.open(stateDir ?? join(config.home, 'discovery'), registry.store.location, { maxLogEntries: loaded.maxLogEntries });
    const host = hostId ?? (registry.store.cluster ? config.hostId : undefined);
    return new Discovery(registry, loaded, rules, state, config, roots, workers, allPlugins, host);
  }

  /** Adds a discovery plugin, asked after the others from the next scan on. @throws INVALID_ARGUMENT for an object that is no plugin, or a name already taken */
  registerPlugin(plugin: DiscoveryPlugin): void {
    this.#plugins.register(plugin);
  }

  /** The roots a refresh scans: the given ones, else the defaults that exist plus the settings' roots. */
  roots(): string[] {
    if (this.#roots) return this.#roots;
    const defaults = this.settings.includeDefaultRoots
      ? [resolve('models'), this.#config.hf.hubCache, this.#config.ollamaModels, this.#config.lmStudioModels].filter((r) => existsSync(r))
      : [];
    return [...new Set([...defaults, ...this.settings.roots.map((r) => resolve(r))])];
  }

  /** Scans the roots now; a call during a running scan of the same roots gets that scan's report. */
  async refresh({ roots, onProgress }: RefreshOptions = {}): Promise<ScanReport> {
    if (this.#running && !roots) return this.#running;
    while (this.#running) await this.#running.catch(() => undefined);
    const run = runScan({
      registry: this.registry, state: this.#state, settings: this.settings, rules: this.rules, roots: roots ?? this.roots(), onProgress,
      plugins: this.#plugins, host: this.#host, ...(this.#workers === undefined ? {} : { workers: this.#workers }),
    });
    this.#running = run;
    try {
      return await run;
    } finally {
      this.#running = undefined;
    }
  }

  status(): DiscoveryStatus {
    const status: DiscoveryStatus = { running: this.#running !== undefined, roots: this.roots(), settings: this.settings };
    if (this.#state.lastScan) status.lastScan = this.#state.lastScan;
    if (this.#nextScanAt) status.nextScanAt = this.#nextScanAt.toISOString();
    return status;
  }

  /** Scan log entries, newest first. `limit` defaults to 100. */
  async logs({ limit = 100 }: { limit?: number } = {}): Promise<ScanLogEntry[]> {
    return this.#state.readLog({ limit });
  }

  /** Models discovery registered. */
  async discovered(): Promise<ModelMetadata[]> {
    return this.registry.listModels({ source: 'discovered' });
  }

  /**
   * Registers the model at `path` (a model folder or file) now, with `overrides` over what its files say.
   * `check` sees the record about to be written and refuses it by throwing; nothing is written then.
   * @throws FILE_NOT_FOUND when no model is there, INVALID_ARGUMENT when the folder holds several, INVALID_FILE for unreadable headers
   */
  async register(path: string, overrides: Partial<ModelMetadataInput> = {}, { check }: { check?: (next: ModelMetadata) => void } = {}): Promise<ModelMetadata> {
    const warnings = new WarningSink();
    const unit = await findModelUnit(path, this.settings, warnings);
    const warn = (p: string, r: string) => warnings.add(p, r);
    const d = await describeUnit(unit, this.rules, warn);
    const known = new KnownModels(await this.registry.listModels(), this.#host);
    const { modelId: givenId, ...given } = overrides;
    const { modelId, joined } = givenId === undefined ? placeCopy(unit.localPath, unit.idHint, known, new Set(), d.fields.files, requestedId(d, unit.localPath, warn)) : { modelId: givenId, joined: false };
    const read = findingOf(modelId, d, warn, unit.localPath);
    const finding = joined ? copyOnly(read) : read;
    const stored = await this.registry.getModel(modelId);
    const here = stored ? pathsOn(stored, this.#host) : [];
    if (here.length > 0 && !here.includes(unit.localPath)) {
      throw new ModelManagerError('MODEL_EXISTS', `model "${modelId}" is already registered for ${here[0]}; choose another id`, {
        details: { modelId, localPath: here[0] },
      });
    }
    const seenAt = new Date().toISOString();
    const owned = stored ? await valuesSetByMachine(this.registry, modelId, contestedPaths(stored, finding)) : new Map<string, unknown>();
    const fromFiles = (current: ModelMetadata | undefined) => (current ? (mergeFindingOn(current, finding, owned, this.#host, seenAt) ?? current) : newRecordOn(finding.record, this.#host, seenAt));
    const withGiven = (current: ModelMetadata | undefined): ModelMetadata => validateModel({ ...fromFiles(current), ...given, modelId });
    // Validated whole, and seen by the caller's check as it will end up, before anything is written.
    const final = withGiven(stored);
    check?.(final);
    let saved: ModelMetadata | undefined;
    if (!stored) saved = await this.registry.addModel(fromFiles(undefined), DISCOVERY_CHANGES.registered);
    else if (mergeFindingOn(stored, finding, owned, this.#host, seenAt)) saved = await this.registry.updateModel(modelId, fromFiles, DISCOVERY_CHANGES.registered);
    // What the caller gave is theirs, not the files': a version of its own, so later scans leave it as set.
    if (Object.keys(given).length > 0) {
      saved = await this.registry.updateModel(modelId, (current) => {
        const next = validateModel({ ...current, ...given, modelId });
        check?.(next);
        return next;
      }, 'registered with given fields');
    }
    saved ??= stored!;
    this.#state.models.set(unit.localPath, { modelId, fingerprint: fingerprint(unit.files) });
    await this.#state.saveIndex();
    const at = new Date().toISOString();
    await this.#state.appendLog([
      { at, level: 'info', scanId: 'register', path: unit.localPath, message: `registered ${modelId}` },
      ...warnings.items.map((w) => ({ at, level: 'warn' as const, scanId: 'register', path: w.path, message: w.reason })),
    ]);
    return saved;
  }

  /** Checks a model's files (by id, or by its local path). @throws MODEL_NOT_FOUND */
  async validate(modelId: string): Promise<ValidationReport> {
    let model = await this.registry.getModel(modelId);
    if (!model && existsSync(modelId)) model = (await this.registry.listModels({ localPath: resolve(modelId), limit: 1 }))[0];
    if (!model) throw new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered; run \`mm scan\` or see \`mm list\``, { details: { modelId } });
    return validateModelFiles(model);
  }

  /** Starts periodic scans (and the file watch when the settings ask for it); scans at once when `autoRefreshOnStartup`. */
  start(): void {
    if (this.#timer || this.#watchers.length > 0) return;
    if (this.settings.autoRefreshOnStartup) this.#background();
    const everyMs = this.settings.scanIntervalMinutes * 60_000;
    if (everyMs > 0) {
      this.#nextScanAt = new Date(Date.now() + everyMs);
      this.#timer = setInterval(() => {
        this.#nextScanAt = new Date(Date.now() + everyMs);
        this.#background();
      }, everyMs);
      this.#timer.unref();
    }
    if (this.settings.watch) for (const root of this.roots()) this.#watch(root);
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#watchDebounce);
    this.#timer = undefined;
    this.#nextScanAt = undefined;
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }

  /** Stops scheduling and waits for a running scan. */
  async close(): Promise<void> {
    this.stop();
    await this.#running?.catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #background(): void {
    this.refresh().catch(async (error: unknown) => {
      const err = toModelManagerError(error);
      await this.#state.appendLog([{ at: new Date().toISOString(), level: 'error', scanId: 'background', message: `scan failed: ${err.message}` }]).catch(() => undefined);
    });
  }

  #watch(root: string): void {
    try {
      const watcher = watch(root, { recursive: true }, () => {
        clearTimeout(this.#watchDebounce);
        this.#watchDebounce = setTimeout(() => this.#background(), 2000);
        this.#watchDebounce.unref();
      });
      watcher.on('error', () => watcher.close());
      watcher.unref();
      this.#watchers.push(watcher);
    } catch (error) {
      void this.#state.appendLog([{ at: new Date().toISOString(), level: 'warn', scanId: 'watch', path: root, message: `cannot watch: ${(error as Error).message}` }]);
    }
  }
}
