/**
 * Entry of a GPU worker process: hosts the instances the manager placed on one GPU, which the
 * environment it was started with pins (`CUDA_VISIBLE_DEVICES`, `GGML_VK_VISIBLE_DEVICES`). A
 * driver abort here ends this process only; the manager answers the requests it held.
 *
 * Usage (by gpu-worker.ts only): node gpu-worker-main.js <llama-cpp|transformers> <gpu kind> <backend options as JSON>
 */
import { ModelManagerError, toModelManagerError } from '../../errors.js';
import type { InferenceBackend, LoadedModel } from '../backends/backend.js';
import { LlamaCppBackend } from '../backends/llama-cpp.js';
import type { LlamaGpuKind } from '../backends/llama-gpu-check.js';
import { nvidiaGpus } from '../backends/onnx-gpus.js';
import { TransformersBackend } from '../backends/transformers.js';
import type { FromWorker, LoadedInfo, ToWorker, VramState, WorkerCall, WorkerHello } from './gpu-worker-protocol.js';

const [hosted, kind, options = '{}'] = process.argv.slice(2);
const settings = JSON.parse(options) as Record<string, unknown>;
const llamaCpp = hosted === 'llama-cpp' ? new LlamaCppBackend({ ...settings, gpu: kind as LlamaGpuKind, checkGpu: false }) : undefined;
const backend: InferenceBackend = llamaCpp ?? new TransformersBackend(settings);
const instances = new Map<number, LoadedModel>();
const aborts = new Map<number, AbortController>();
let nextInstance = 1;

function send(message: FromWorker): void {
  process.send?.(message);
}

async function vram(): Promise<VramState | null> {
  return llamaCpp ? (await llamaCpp.gpuDevicesInProcess()).vram : null;
}

async function hello(): Promise<WorkerHello> {
  if (llamaCpp) {
    const { names, vram: memory } = await llamaCpp.gpuDevicesInProcess();
    return { devices: names, vram: memory };
  }
  return { devices: nvidiaGpus(), vram: null };
}

function instance(id: number): LoadedModel {
  const model = instances.get(id);
  if (!model) throw new ModelManagerError('MODEL_DISPOSED', `instance ${id} of this GPU worker was disposed (its model was freed): send the request again to load the model anew`, { details: { instance: id } });
  return model;
}

function unsupported(model: LoadedModel, taskType: string): ModelManagerError {
  return new ModelManagerError('UNSUPPORTED_TASK', `backend "${model.backend}" loaded this model without ${taskType}`);
}

async function run(id: number, call: WorkerCall): Promise<unknown> {
  switch (call.op) {
    case 'load': {
      const model = await backend.load({ path: call.path, taskType: call.taskType, device: 'gpu', ...(call.model ? { model: call.model } : {}) });
      const handle = nextInstance++;
      instances.set(handle, model);
      const info: LoadedInfo = {
        instance: handle, device: model.device, gpuKind: model.gpuKind, warning: model.warning,
        memoryBytes: model.memoryBytes, vramBytes: model.vramBytes, dimensions: model.dimensions, countsTokens: model.countTokens !== undefined,
      };
      return info;
    }
    case 'embed': {
      const model = instance(call.instance);
      if (!model.embed) throw unsupported(model, 'embedding');
      return model.embed(call.texts, call.params);
    }
    case 'generate': {
      const model = instance(call.instance);
      if (!model.generate) throw unsupported(model, 'text_generation');
      const abort = new AbortController();
      aborts.set(id, abort);
      try {
        return await model.generate(call.prompt, {
          ...call.params,
          signal: abort.signal,
          ...(call.stream ? { onToken: (token: string) => send({ id, token }) } : {}),
        });
      } finally {
        aborts.delete(id);
      }
    }
    case 'countTokens': {
      const model = instance(call.instance);
      if (!model.countTokens) throw new ModelManagerError('TASK_FAILED', `backend "${model.backend}" cannot count tokens`);
      return model.countTokens(call.texts);
    }
    case 'dispose': {
      const model = instances.get(call.instance);
      instances.delete(call.instance);
      await model?.dispose();
      return null;
    }
    case 'vram':
      return vram();
  }
}

process.on('message', (message: ToWorker) => {
  if ('abort' in message) {
    aborts.get(message.abort)?.abort();
    return;
  }
  run(message.id, message.call).then(
    (value) => send({ id: message.id, value }),
    (error: unknown) => send({ id: message.id, error: toModelManagerError(error, 'TASK_FAILED').toJSON() }),
  );
});
// The manager went away (exit, crash): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

try {
  send({ hello: await hello() });
} catch (error) {
  send({ helloError: toModelManagerError(error, 'MODEL_LOAD_FAILED').toJSON() });
}
