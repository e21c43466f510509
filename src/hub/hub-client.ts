/**
 * The hub over HTTP, through @huggingface/hub: model info, the small config files, the README,
 * and the safetensors headers (HTTP Range requests via `parseSafetensorsMetadata`), never weights.
 * `fetch` is injectable, and the endpoint follows HF_ENDPOINT, so tests run against a local server.
 */
import { HubApiError, downloadFile, modelInfo, parseSafetensorsMetadata, type RepoDesignation } from '@huggingface/hub';
import { ModelManagerError } from '../errors.js';
import { parseModelCard } from './model-card.js';
import { MAX_CONFIG_BYTES, MAX_README_BYTES, parseConfigJson, parseOptionalConfig, type HfSnapshot, type WeightsSummary } from './snapshot.js';

export interface HubClientOptions {
  /** Hub base URL. Defaults to https://huggingface.co (HF_ENDPOINT through `config()`). */
  endpoint?: string;
  /** Access token for gated and private models. Defaults to none (HF_TOKEN through `config()`). */
  token?: string;
  /** Branch, tag or commit. Defaults to `main`. */
  revision?: string;
  /** The fetch to use. Defaults to the global one. */
  fetch?: typeof fetch;
  /** Milliseconds each request may take before the hub counts as unreachable. Defaults to 30000. */
  timeoutMs?: number;
}

/** The codes of undici's and Node's errors of the connection itself (a file's bytes come through undici's `request`). */
const CONNECTION_ERROR_CODES = new Set([
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
]);

/** Errors of the connection itself (refused, reset, DNS, timed out), as opposed to an answer from the hub. */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return error instanceof TypeError || error.name === 'TimeoutError' || error.name === 'AbortError' || (code !== undefined && CONNECTION_ERROR_CODES.has(code));
}

/**
 * Adds the token and a time limit to every request. The token goes as a header from here because
 * @huggingface/hub refuses tokens not shaped `hf_...`, which mirrors may issue.
 */
export function hubFetch(base: typeof fetch, token: string | undefined, timeoutMs: number): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return base(input, { ...init, headers, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
  };
}

/**
 * The coded error for an HTTP status the hub (or its file storage) answered about a repo.
 * 401/403: gated or private; 404: no such repo, revision or file; anything else: try later.
 */
export function hubStatusError(status: number, repoId: string, endpoint: string, tokenGiven: boolean, { url, cause }: { url?: string; cause?: unknown } = {}): ModelManagerError {
  const details = { repoId, status, ...(url === undefined ? {} : { url }) };
  const options = { details, ...(cause === undefined ? {} : { cause }) };
  if (status === 401 || status === 403) {
    const hint = tokenGiven
      ? 'your HF_TOKEN has no access to it: accept its terms on the model page with that account, or use another token'
      : 'it is gated or private (or does not exist): check the id, accept its terms on the model page and set HF_TOKEN';
    return new ModelManagerError('AUTH_REQUIRED', `${repoId}: the hub refused access (HTTP ${status}); ${hint}`, options);
  }
  if (status === 404) {
    return new ModelManagerError('HUB_NOT_FOUND', `${repoId} is not on ${endpoint}: check the id (org/name) and the revision`, options);
  }
  return new ModelManagerError('HUB_UNREACHABLE', `${endpoint} answered HTTP ${status} for ${repoId}; try again later`, options);
}

/** Turns what the hub or the network threw into a coded error that says what to do. */
export function hubError(error: unknown, repoId: string, endpoint: string, tokenGiven: boolean): ModelManagerError {
  if (error instanceof ModelManagerError) return error;
  if (error instanceof HubApiError) return hubStatusError(error.statusCode, repoId, endpoint, tokenGiven, { url: error.url, cause: error });
  const reason = !(error instanceof Error) ? String(error) : error.name === 'TimeoutError' ? 'timed out' : ((error.cause as Error | undefined)?.message ?? error.message);
  if (!isNetworkError(error)) {
    return new ModelManagerError('HUB_UNREACHABLE', `${endpoint} gave an answer that could not be read for ${repoId} (${reason}); check HF_ENDPOINT`, { details: { repoId, endpoint }, cause: error });
  }
  return new ModelManagerError(
    'HUB_UNREACHABLE',
    `cannot reach ${endpoint} (${reason}); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only local folders and the HF cache`,
    { details: { repoId, endpoint }, cause: error },
  );
}

/**
 * Reads a model from the hub: info, config.json and the other small files, the README, and
 * the parameter count from the safetensors headers.
 * @throws ModelManagerError AUTH_REQUIRED (gated/private), HUB_NOT_FOUND, HUB_UNREACHABLE, INVALID_CONFIG
 */
export async function fetchHubSnapshot(repoId: string, options: HubClientOptions = {}): Promise<HfSnapshot> {
  const { endpoint = 'https://huggingface.co', token, revision = 'main', timeoutMs = 30_000 } = options;
  const hubUrl = endpoint.replace(/\/+$/, '');
  const fetchFn = hubFetch(options.fetch ?? globalThis.fetch, token, timeoutMs);
  const repo: RepoDesignation = { type: 'model', name: repoId };
  const fail = (error: unknown) => hubError(error, repoId, hubUrl, token !== undefined);
  const warnings: string[] = [];

  const info = await modelInfo({ name: repoId, hubUrl, revision, fetch: fetchFn, additionalFields: ['sha', 'tags', 'filePaths'] }).catch((e: unknown) => {
    throw fail(e);
  });
  const commit = info.sha ?? revision;

  /** A small file's text, undefined when the repo lacks it. */
  const download = async (path: string, limit: number, required: boolean): Promise<string | undefined> => {
    let blob: Blob | null;
    try {
      blob = await downloadFile({ repo, path, revision: commit, hubUrl, fetch: fetchFn, xet: false });
    } catch (error) {
      if (error instanceof HubApiError && error.statusCode === 404) return undefined;
      throw fail(error);
    }
    if (!blob) return undefined;
    if (blob.size > limit && required) {
      throw new ModelManagerError('INVALID_CONFIG', `${repoId}/${path} is ${blob.size} bytes, more than the ${limit} a config may have`, { details: { repoId, path } });
    }
    return (blob.size > limit ? blob.slice(0, limit) : blob).text().catch((e: unknown) => {
      throw fail(e);
    });
  };

  const configText = await download('config.json', MAX_CONFIG_BYTES, true);
  if (configText === undefined) warnings.push(`${repoId} has no config.json on the hub: only the model card and hub info were imported`);
  const config = configText === undefined ? undefined : parseConfigJson(configText, `${repoId}/config.json`);
  const tokenizerConfig = parseOptionalConfig(await download('tokenizer_config.json', MAX_CONFIG_BYTES, false), `${repoId}/tokenizer_config.json`, warnings);
  const generationConfig = parseOptionalConfig(await download('generation_config.json', MAX_CONFIG_BYTES, false), `${repoId}/generation_config.json`, warnings);
  const readme = await download('README.md', MAX_README_BYTES, false);
  const card = readme === undefined ? undefined : parseModelCard(readme);
  if (card?.warning) warnings.push(card.warning);

  let weights: WeightsSummary | undefined;
  const files = info.filePaths ?? [];
  if (files.some((f) => f.endsWith('.safetensors'))) {
    try {
      const parsed = await parseSafetensorsMetadata({ repo, revision: commit, hubUrl, fetch: fetchFn, computeParametersCount: true });
      const byDtype = Object.fromEntries(Object.entries(parsed.parameterCount).filter((e): e is [string, number] => typeof e[1] === 'number'));
      weights = { parameterCount: Object.values(byDtype).reduce((a, b) => a + b, 0), parametersByDtype: byDtype, files: parsed.filepaths };
    } catch (error) {
      // A dropped connection is the hub being unreachable; anything else is a bad or odd file.
      if (isNetworkError(error)) throw fail(error);
      warnings.push(`could not read the safetensors headers on the hub (${(error as Error).message.split('. URL')[0]}); parameter count taken from config.json`);
    }
  }

  return {
    source: 'hub',
    repoId,
    location: `${hubUrl}/${repoId}`,
    revision: commit,
    config,
    tokenizerConfig,
    generationConfig,
    card,
    pipelineTag: info.task ?? card?.pipelineTag,
    hubTags: info.tags ?? [],
    weights,
    files: files.map((path) => ({ path })),
    warnings,
  };
}
