/**
 * Discovery plugins (seed 002's ModelDiscoveryPlugin): discovery of formats Model Manager does not
 * read itself. A scan offers a plugin each file that no built-in reader took (a `.custom` file,
 * say); the first plugin whose `canHandle` says yes makes that file a model, described by its
 * `extractMetadata` and `detectModalities`.
 *
 * Plugins run inside the scan's rules: every call has a time limit, a plugin that throws or does
 * not answer in time is a warning in the scan log naming it (never the end of the scan), and what
 * it returns is validated like any model record before it reaches the registry.
 */
import type { BoundedReader, BoundedReaderOptions } from '../../formats/bounded-reader.js';
import type { Modality, ModelMetadataInput } from '../../registry/schema.js';

/**
 * What a plugin may read, bounded as the built-in header readers read: every byte is counted into
 * the scan's `bytesRead`, every read has a budget, and whatever the plugin opened is closed when
 * its call ends. The reads are synchronous preads, like the built-in readers'.
 */
export interface PluginFiles {
  /**
   * Opens a file for header reads: the read window the built-in parsers use (read only what is
   * asked, in growing chunks, refused past `maxBytes`, which defaults to 16 MiB and is at most 64 MiB).
   * @throws FILE_NOT_FOUND, INVALID_FILE (not a regular file, or a read past the end or the budget)
   */
  open(path: string, options?: Pick<BoundedReaderOptions, 'maxBytes' | 'kind'>): BoundedReader;
  /** The first `maxBytes` of a file (fewer when it is shorter). Defaults to 64 KiB, at most 64 MiB. */
  head(path: string, maxBytes?: number): Buffer;
  /** A JSON file. @throws INVALID_FILE when it is longer than `maxBytes` (default 1 MiB) or not JSON */
  json(path: string, maxBytes?: number): unknown;
}

/** What each call of a plugin gets besides the path. */
export interface PluginCallContext {
  /** Bounded reads (see PluginFiles). */
  files: PluginFiles;
  /** The scan root the path was found under. */
  root: string;
  /** Aborted when the call's time is up: stop working, the scan has moved on. */
  signal: AbortSignal;
}

/**
 * Registry fields of the model a plugin found. `modelName` defaults to the file's name,
 * `modelType` to one that fits the modalities; `modelId`, when given, is asked for as
 * metadata.json's is (the scan keeps an id the registry already gave the file). The scan sets
 * `localPath`, `files`, `source` and `status` itself, and `custom.discoveryPlugin` to the plugin's name.
 */
export type PluginMetadata = Partial<ModelMetadataInput>;

/** A discovery plugin. Every method may be async; each call is time-limited (model_discovery.json `plugin_timeout_seconds`). */
export interface DiscoveryPlugin {
  /** Its name, as the scan log names it; unique among the plugins of a Discovery. */
  readonly name: string;
  /** True when this plugin reads the file at `path`; asked of files no built-in reader took. */
  canHandle(path: string, context: PluginCallContext): boolean | Promise<boolean>;
  /** The model's registry fields. A throw makes the file a warning, not a model. */
  extractMetadata(path: string, context: PluginCallContext): PluginMetadata | Promise<PluginMetadata>;
  /** What the model takes: text, image, audio, video. */
  detectModalities(path: string, context: PluginCallContext): readonly Modality[] | Promise<readonly Modality[]>;
}
