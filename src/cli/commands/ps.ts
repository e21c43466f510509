import type { ClusterHost } from '../../cluster/types.js';
import { ModelManagerError } from '../../errors.js';
import { describeAttempts, ModelManager, type GpuBackendStatus, type LoadedModelInfo } from '../../runtime/index.js';
import { formatBytes } from '../../units.js';
import { settingsOf, withRegistry, withSettingsOptions } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { GlobalOptions, Program } from '../program.js';

export interface ServerOptions {
  server?: string;
  apiKey?: string;
}

/** A request inside a loaded model, as /api/ps lists it. */
interface PsTask {
  task_type: string;
  state: 'queued' | 'running';
  since: string;
  max_tokens?: number;
}

/** One row of `mm ps`, from this process or from a server's /api/ps (Ollama-style names). */
interface PsRow {
  name: string;
  model?: string;
  state?: string;
  backend?: string;
  device?: string;
  gpu_kind?: string;
  workers?: number;
  refs?: number;
  size?: number;
  queue?: number;
  running?: number;
  tasks?: PsTask[];
  last_used_at?: string;
  expires_at?: string | null;
}

const NOTE =
  'models stay loaded only inside a long-lived process: a one-shot `mm` command frees its models when it exits. ' +
  'Run `mm serve` and use `mm ps --server http://127.0.0.1:8080` to see what it holds.';

export function register(program: Program): void {
  const ps = withSettingsOptions(program.command('ps'))
    .description('list loaded models (of this process, of a running `mm serve` with --server, or of every server sharing the registry with --all)')
    .option('--server <url>', 'ask a running server, e.g. http://127.0.0.1:8080')
    .option('--api-key <key>', 'API key of that server')
    .option('--all', 'every server sharing the registry (a postgres:// --db, or what --server knows of) and the models each has loaded');
  ps.action(async () => {
    const o = ps.optsWithGlobals();
    if (o.all) return printCluster(o.json, await clusterHosts(o));
    let rows: PsRow[];
    let gpus: GpuBackendStatus[];
    if (o.server) {
      rows = ((await callServer(o, 'GET', '/api/ps')) as { models?: PsRow[] }).models ?? [];
      // What the server found of its GPUs so far (a server older than this field has none to say).
      gpus = ((await callServer(o, 'GET', '/api/system/resources').catch(() => ({}))) as { gpus?: GpuBackendStatus[] }).gpus ?? [];
    } else {
      // A fresh process holds nothing; build the (empty) view anyway so the output shape is the server's, and say which GPUs it would use.
      const manager = await ModelManager.create({ settings: await settingsOf(o) });
      rows = manager.ps().map(toRow);
      gpus = await manager.checkGpus();
      await manager.shutdown();
    }
    if (o.json) return printJson({ scope: o.server ? o.server : 'process', models: rows, gpus, ...(o.server ? {} : { note: NOTE }) });
    if (rows.length === 0) {
      process.stdout.write('no models loaded\n');
      printGpus(gpus);
      if (!o.server) process.stderr.write(`mm: ${NOTE}\n`);
      return;
    }
    const now = Date.now();
    printTable(
      ['NAME', 'STATE', 'BACKEND', 'DEVICE', 'WORKERS', 'REFS', 'SIZE', 'RUNNING', 'QUEUE', 'IDLE', 'EXPIRES'],
      rows.map((r) => [
        r.name, r.state ?? '', r.backend, r.gpu_kind ? `${r.device} (${r.gpu_kind})` : r.device, r.workers, r.refs, formatBytes(r.size), running(r, now), r.queue,
        r.last_used_at ? seconds(now - Date.parse(r.last_used_at)) : '',
        r.expires_at ? `in ${seconds(Date.parse(r.expires_at) - now)}` : r.expires_at === null ? 'in use / kept' : '',
      ]),
    );
    printGpus(gpus);
  });
}

/** Every server sharing the registry: from a server's /api/cluster with --server, else from the shared registry itself. */
async function clusterHosts(o: ServerOptions & GlobalOptions): Promise<ClusterHost[]> {
  if (o.server) return ((await callServer(o, 'GET', '/api/cluster')) as { hosts?: ClusterHost[] }).hosts ?? [];
  return withRegistry(o, async (registry) => {
    if (!registry.store.cluster) {
      throw new ModelManagerError('NOT_ENABLED', `the ${registry.store.kind} registry is not shared by servers: use --db postgres://... (the registry your servers share) or --server <url>`);
    }
    return registry.store.cluster.hosts();
  });
}

function printCluster(json: boolean | undefined, hosts: ClusterHost[]): void {
  if (json) return printJson({ scope: 'cluster', hosts });
  if (hosts.length === 0) {
    process.stdout.write('no server is registered\n');
    return;
  }
  const now = Date.now();
  printTable(
    ['HOST', 'URL', 'STATUS', 'MEMORY FREE', 'MODEL', 'STATE', 'DEVICE', 'WORKERS', 'SIZE', 'RUNNING', 'IDLE'],
    hosts.flatMap((h) => {
      const host = [h.hostId, h.url, h.status === 'live' ? 'live' : `gone ${seconds(h.heartbeatAgeMs)}`, `${formatBytes(h.info.memory.freeBytes)} / ${formatBytes(h.info.memory.totalBytes)}`];
      if (h.models.length === 0) return [[...host, '-']];
      return h.models.map((m) => [
        ...host, m.name, m.state, m.gpuKind ? `${m.device} (${m.gpuKind})` : m.device, m.workers, formatBytes(m.sizeBytes), m.running,
        seconds(now - Date.parse(m.lastUsedAt)),
      ]);
    }),
  );
}

/** Each backend's GPUs: the kind in use and its devices, or why none is used. */
function printGpus(gpus: readonly GpuBackendStatus[]): void {
  for (const { backend, kind, devices, attempts } of gpus) {
    const failed = describeAttempts(attempts);
    process.stdout.write(`\nGPU, ${backend}: ${kind === false ? 'none, running on the CPU' : `${kind}, ${devices.length} device(s)`}\n`);
    for (const d of devices) {
      const memory = d.vram ? `  ${formatBytes(d.vram.totalBytes)}, budget ${formatBytes(d.vram.budgetBytes)}, models ${formatBytes(d.vram.reservedBytes)}` : '';
      process.stdout.write(`  ${d.device}  ${d.name}${memory}${d.worker ? `  worker pid ${d.worker.pid}${d.worker.alive ? '' : ' (ended)'}` : ''}\n`);
    }
    if (failed) process.stdout.write(`  tried: ${failed}\n`);
  }
}

function toRow(info: LoadedModelInfo): PsRow {
  return {
    name: info.name, model: info.model, state: info.state, backend: info.backend, device: info.device, ...(info.gpuKind ? { gpu_kind: info.gpuKind } : {}),
    workers: info.workers, refs: info.refs, size: info.sizeBytes, queue: info.queue, running: info.running,
    tasks: info.tasks.map((t) => ({ task_type: t.taskType, state: t.state, since: t.since, ...(t.maxTokens === undefined ? {} : { max_tokens: t.maxTokens }) })),
    last_used_at: info.lastUsedAt, expires_at: info.expiresAt,
  };
}

/** Instances at work, and for how long the oldest running request has run: a runaway generation shows. */
function running(row: PsRow, now: number): string {
  const oldest = Math.min(...(row.tasks ?? []).filter((t) => t.state === 'running').map((t) => Date.parse(t.since)));
  return `${row.running ?? 0}${Number.isFinite(oldest) ? ` (${seconds(now - oldest)})` : ''}`;
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

/** Calls a running `mm serve`; its `{error}` replies become the same error here. */
export async function callServer(o: ServerOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const url = new URL(path, o.server!.endsWith('/') ? o.server : `${o.server}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    throw new ModelManagerError('INVALID_ARGUMENT', `cannot reach ${url.origin}: is \`mm serve\` running there?`, { cause, details: { url: url.href } });
  }
  const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!response.ok) {
    const message = payload.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ModelManagerError(response.status === 404 ? 'NOT_FOUND' : response.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL', `server ${url.origin}: ${message}`, {
      details: { status: response.status, url: url.href, serverCode: payload.error?.code },
    });
  }
  return payload;
}
