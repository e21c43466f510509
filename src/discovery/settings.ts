/**
 * Discovery settings: `model_discovery.json` in the seed's format (snake_case, optionally under
 * a `discovery` key), read into camelCase DiscoverySettings with defaults for what it leaves out.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ModelManagerError } from '../errors.js';

/** What `supported_formats` may name; `bin`, `pt` and `pth` mean PyTorch weights. */
export const DISCOVERY_FORMATS = ['safetensors', 'bin', 'pt', 'pth', 'pytorch', 'onnx', 'gguf', 'ggml'] as const;

export const discoverySettingsSchema = z.object({
  /** Minutes between periodic scans once `start()` is called; 0 turns them off. */
  scanIntervalMinutes: z.number().nonnegative().default(30),
  /** Whether `start()` scans at once. */
  autoRefreshOnStartup: z.boolean().default(true),
  /** Whether folders below a root are scanned at all. */
  scanSubdirectories: z.boolean().default(true),
  /** Folder levels below a root that are scanned. */
  maxScanDepth: z.number().int().nonnegative().default(5),
  supportedFormats: z.array(z.enum(DISCOVERY_FORMATS)).default(['safetensors', 'bin', 'pt', 'onnx', 'gguf', 'ggml']),
  /** Globs (picomatch) matched against each file or folder name, or its path below the root when the glob has a `/`. */
  excludePatterns: z.array(z.string().min(1)).default(['*.tmp', '*.lock', '*.part', '*.incomplete', '.git', '__pycache__', 'node_modules']),
  /** Roots scanned besides the default ones. */
  roots: z.array(z.string().min(1)).default([]),
  /** Whether the default roots (./models, HF cache, Ollama, LM Studio) are scanned. */
  includeDefaultRoots: z.boolean().default(true),
  /** Whether symlinks that lead outside a root are followed (links inside it always are); off, a link to / cannot make a scan walk the whole file system. */
  followSymlinks: z.boolean().default(false),
  /** Whether `start()` also watches the roots for changes (fs.watch) and rescans soon after one. */
  watch: z.boolean().default(false),
  /** Log entries kept (oldest dropped first). */
  maxLogEntries: z.number().int().positive().default(5000),
  /** Discovery plugin modules (ES modules), relative to the settings file: see discovery/plugins/plugin.ts. */
  plugins: z.array(z.string().min(1)).default([]),
  /** Seconds one call of a discovery plugin may take before the scan moves on without it. */
  pluginTimeoutSeconds: z.number().positive().default(10),
});

export type DiscoverySettings = z.output<typeof discoverySettingsSchema>;

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Validates settings given in either case style; `{discovery: {...}}` (the seed's file) is unwrapped. */
export function parseDiscoverySettings(input: unknown, source = 'settings'): DiscoverySettings {
  let doc = input;
  if (doc && typeof doc === 'object' && 'discovery' in doc) doc = (doc as { discovery: unknown }).discovery;
  if (doc === undefined || doc === null) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ModelManagerError('INVALID_CONFIG', `${source}: discovery settings must be a JSON object`, { details: { source } });
  }
  const camelDoc = Object.fromEntries(Object.entries(doc as Record<string, unknown>).map(([k, v]) => [camel(k), v]));
  const result = discoverySettingsSchema.safeParse(camelDoc);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ field: i.path.join('.'), reason: i.message }));
    throw new ModelManagerError('INVALID_CONFIG', `${source}: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`, { details: { source, issues } });
  }
  return result.data;
}

/**
 * Reads `model_discovery.json`; a file that does not exist gives the defaults when `optional`.
 * @throws INVALID_CONFIG for a file that is not valid JSON or holds bad values
 */
export async function loadDiscoverySettings(path: string | undefined, { optional = false, overrides = {} }: { optional?: boolean; overrides?: Partial<DiscoverySettings> } = {}): Promise<DiscoverySettings> {
  let doc: unknown = {};
  if (path) {
    try {
      doc = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!(optional && code === 'ENOENT')) {
        throw new ModelManagerError('INVALID_CONFIG', `cannot read discovery settings ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
      }
    }
  }
  const settings = parseDiscoverySettings(doc, path);
  return parseDiscoverySettings({ ...settings, ...overrides }, path ?? 'settings');
}

/** The model formats the settings let through, as registry formats. */
export function allowedFormats(settings: DiscoverySettings): Set<string> {
  const out = new Set<string>();
  for (const f of settings.supportedFormats) out.add(f === 'bin' || f === 'pt' || f === 'pth' ? 'pytorch' : f);
  return out;
}
