/**
 * One GPU worker: a child process that hosts the instances placed on one GPU, pinned to it by
 * environment (`CUDA_VISIBLE_DEVICES` for CUDA, `GGML_VK_VISIBLE_DEVICES` for Vulkan). When the
 * process ends unexpectedly (a driver abort, a kill), every call it held is answered with
 * WORKER_LOST and `onExit` tells the manager, which frees the models that were on it; the next
 * request starts a new worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ModelManagerError, type ErrorCode } from '../../errors.js';
import type { Device, WorkerSpec } from '../backends/backend.js';
import type { FromWorker, ToWorker, VramState, WireError, WorkerAnswers, WorkerCall, WorkerHello } from './gpu-worker-protocol.js';

const MAIN = fileURLToPath(new URL('./gpu-worker-main.js', import.meta.url));
/** Starting a GPU binary takes seconds; lavapipe on a busy CPU takes longer. */
const START_TIMEOUT_MS = 180_000;
/** Output lines kept to say why a worker died. */
const KEPT_LINES = 20;

/**
 * The environment that makes a process see only the `index`th GPU of `kind`: the `index`th entry
 * of the list the user set (so `GGML_VK_VISIBLE_DEVICES=0,0` gives two workers on device 0), else
 * the device numbered `index`.
 */
export function pinToGpu(kind: string, index: number, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const name = kind === 'cuda' ? 'CUDA_VISIBLE_DEVICES' : kind === 'vulkan' ? 'GGML_VK_VISIBLE_DEVICES' : undefined;
  if (!name) return {};
  const listed = env[name]?.split(',').map((v) => v.trim()).filter(Boolean);
  return { [name]: listed?.[index] ?? String(index) };
}

export interface GpuWorkerOptions {
  /** The backend the worker hosts, and its options. */
  spec: WorkerSpec;
  /** The GPU kind the backend found working (`cuda`, `vulkan`, `metal`). */
  kind: string;
  /** Which GPU of that kind: the worker serves `cuda:<index>`. */
  index: number;
  /** The name the backend's check gave this GPU; a worker that sees another device refuses to start. */
  expectedName?: string;
  /** Called once when the process ends without being asked to. */
  onExit?(worker: GpuWorker, error: ModelManagerError): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onToken?: ((text: string) => void) | undefined;
}

export class GpuWorker {
  readonly backend: WorkerSpec['backend'];
  readonly kind: string;
  readonly device: Device;
  readonly deviceName: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #output: string[];
  #nextId = 1;
  #lost: ModelManagerError | undefined;
  #stopping = false;
  readonly #exited: Promise<void>;

  private constructor(options: GpuWorkerOptions, child: ChildProcess, deviceName: string, output: string[], exited: Promise<void>) {
    this.backend = options.spec.backend;
    this.kind = options.kind;
    this.device = `cuda:${options.index}`;
    this.deviceName = deviceName;
    this.#child = child;
    this.#output = output;
    this.#exited = exited;
    child.on('message', (message: FromWorker) => this.#receive(message));
    child.once('exit', (code, signal) => this.#onExit(code, signal, options));
    this.#holdProcess(false);
  }

  /** Starts a worker and waits until its GPU binary is up and sees the expected device. @throws MODEL_LOAD_FAILED */
  static async start(options: GpuWorkerOptions): Promise<GpuWorker> {
    const { spec, kind, index, expectedName } = options;
    const { backend } = spec;
    const device = `cuda:${index}`;
    const child = fork(MAIN, [backend, kind, JSON.stringify(spec.options)], {
      env: { ...process.env, ...pinToGpu(kind, index) },
      // A debugger port cannot be shared: the worker takes the other flags this process runs with.
      execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) output.push(line.trim());
      output.splice(0, Math.max(0, output.length - KEPT_LINES));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let hello: WorkerHello;
    try {
      hello = await new Promise<WorkerHello>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`it did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
        child.once('message', (message: FromWorker) => {
          clearTimeout(timer);
          if ('hello' in message) resolve(message.hello);
          else if ('helloError' in message) reject(new Error(message.helloError.message));
          else reject(new Error('it answered before saying hello'));
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`it exited (${signal ?? `code ${code}`}) while starting${output.length ? `: ${output.at(-1)}` : ''}`));
        });
      });
      const seen = hello.devices[0];
      if (seen === undefined) throw new Error(`it sees no ${kind} device (environment ${JSON.stringify(pinToGpu(kind, index))})`);
      if (expectedName !== undefined && seen !== expectedName) {
        throw new Error(`it sees "${seen}" where the GPU check found "${expectedName}": set ${kind === 'cuda' ? 'CUDA_VISIBLE_DEVICES' : 'GGML_VK_VISIBLE_DEVICES'} to the devices to use`);
      }
    } catch (error) {
      child.kill('SIGKILL');
      throw new ModelManagerError('MODEL_LOAD_FAILED', `the ${backend} GPU worker for ${device} (${kind}) could not start: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error, details: { backend, device, kind },
      });
    }
    return new GpuWorker(options, child, hello.devices[0]!, output, exited);
  }

  /** True until the process ends. */
  get alive(): boolean {
    return this.#lost === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Calls the worker; `onToken` receives streamed text, `signal` stops a generation. @throws WORKER_LOST when the process ends first */
  call<Op extends WorkerCall['op']>(
    call: Extract<WorkerCall, { op: Op }>,
    { onToken, signal }: { onToken?: (text: string) => void; signal?: AbortSignal } = {},
  ): Promise<WorkerAnswers[Op]> {
    if (this.#lost) return Promise.reject(this.#lost);
    const id = this.#nextId++;
    const abort = () => this.#send({ abort: id });
    signal?.addEventListener('abort', abort, { once: true });
    return new Promise<WorkerAnswers[Op]>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onToken });
      this.#holdProcess(true);
      this.#send({ id, call });
    }).finally(() => signal?.removeEventListener('abort', abort));
  }

  /** The device's memory as the worker's GPU binary reports it, or null when the backend cannot tell. */
  vram(): Promise<VramState | null> {
    return this.call({ op: 'vram' });
  }

  /** Ends the worker (its instances go with it); idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      // Closing the channel lets the worker exit on its own; a worker stuck in a driver call is killed.
      if (this.#child.connected) this.#child.disconnect();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  #send(message: ToWorker): void {
    if (this.#child.connected) this.#child.send(message);
  }

  #receive(message: FromWorker): void {
    if (!('id' in message)) return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if ('token' in message) {
      pending.onToken?.(message.token);
      return;
    }
    this.#pending.delete(message.id);
    if (this.#pending.size === 0) this.#holdProcess(false);
    if ('error' in message) pending.reject(fromWire(message.error));
    else pending.resolve(message.value);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null, { onExit }: GpuWorkerOptions): void {
    const how = signal ?? `exit code ${code}`;
    const last = this.#output.filter((l) => /error|abort|fatal/i.test(l)).at(-1) ?? this.#output.at(-1);
    this.#lost = new ModelManagerError('WORKER_LOST', `the ${this.backend} GPU worker on ${this.device} (${this.deviceName}) ended (${how})${last ? `: ${last}` : ''}; requests it held failed: retry them, the next one starts a new worker`, {
      details: { device: this.device, deviceName: this.deviceName, kind: this.kind, backend: this.backend, exit: how, pid: this.#child.pid },
    });
    for (const pending of this.#pending.values()) pending.reject(this.#lost);
    this.#pending.clear();
    if (!this.#stopping) onExit?.(this, this.#lost);
  }

  /** While calls are pending the worker keeps this process alive; an idle one does not hold it open. */
  #holdProcess(hold: boolean): void {
    const method = hold ? 'ref' : 'unref';
    this.#child[method]();
    this.#child.channel?.[method]();
    for (const stream of [this.#child.stdout, this.#child.stderr]) (stream as { ref?(): void; unref?(): void } | null)?.[method]?.();
  }
}

function fromWire({ code, message, details }: WireError): ModelManagerError {
  return new ModelManagerError(code as ErrorCode, message, { details });
}
