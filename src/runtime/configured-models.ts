/**
 * Configured models (seed 001's `models.<name>` settings): a name callers use wherever a model is
 * named, standing for a model to load and how to serve it. What a request or a getModel() call
 * sets itself wins over the configured value; the configured value wins over the manager's default.
 */
import { ModelManagerError } from '../errors.js';
import { CONFIGURED_NAME, modelSettingsSchema, TEXT_GENERATION_TYPES, type ConfiguredModelOptions, type ModelSettings } from '../settings/schema.js';
import type { TaskType } from './backends/backend.js';
import type { LoadFields } from './task-input.js';

/** One configured model, as `getModelConfig()` returns it. */
export interface ConfiguredModel extends ModelSettings {
  /** The name callers use: its key under `models`. */
  id: string;
  /** The task it serves: `embedding`, `text_generation` (for `text2text` too), or a custom task type. */
  taskType: TaskType;
  /** What is loaded: `localPath` when set, else `name`. */
  source: string;
}

/** The runtime's task type for a configured model's `type`. */
export function taskTypeOf(type: string): TaskType {
  return TEXT_GENERATION_TYPES.includes(type) ? 'text_generation' : type;
}

export class ConfiguredModels {
  readonly #models = new Map<string, ConfiguredModel>();

  /** @throws INVALID_CONFIG naming the model and the setting */
  constructor(models: Readonly<Record<string, ConfiguredModelOptions>> = {}) {
    for (const [id, options] of Object.entries(models)) {
      if (!CONFIGURED_NAME.test(id)) {
        throw new ModelManagerError('INVALID_CONFIG', `models."${id}": a configured model's name is letters, digits, "_" and "-"`, { details: { model: id } });
      }
      const parsed = modelSettingsSchema.safeParse(options);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ key: ['models', id, ...i.path.map(String)].join('.'), reason: i.message }));
        throw new ModelManagerError('INVALID_CONFIG', `invalid settings: ${issues.map((i) => `${i.key}: ${i.reason}`).join('; ')}`, { details: { issues } });
      }
      const model = parsed.data;
      this.#models.set(id, { ...model, id, taskType: taskTypeOf(model.type), source: model.localPath ?? model.name! });
    }
  }

  /** The configured model of that name, if any. */
  get(name: string): ConfiguredModel | undefined {
    return this.#models.get(name);
  }

  list(): ConfiguredModel[] {
    return [...this.#models.values()];
  }

  /**
   * The configured model of that name, for the calls that only take one (seed 001's get_model_config,
   * get_embedding_model, get_text_generation_model).
   * @throws MODEL_NOT_CONFIGURED, INVALID_MODEL_TYPE when `taskType` is given and not the model's
   */
  require(name: string, taskType?: TaskType): ConfiguredModel {
    const model = this.#models.get(name);
    if (!model) {
      const known = [...this.#models.keys()];
      throw new ModelManagerError('MODEL_NOT_CONFIGURED', `no model is configured as "${name}": add models.${name} to the settings (configured: ${known.join(', ') || 'none'})`, {
        details: { modelId: name, configured: known },
      });
    }
    if (taskType !== undefined) checkTaskType(model, taskType);
    return model;
  }
}

/** @throws INVALID_MODEL_TYPE when a configured model is asked for a task it is not configured for */
export function checkTaskType(model: ConfiguredModel, taskType: TaskType): void {
  if (model.taskType === taskType) return;
  throw new ModelManagerError('INVALID_MODEL_TYPE', `"${model.id}" is configured as a ${model.type} model, not for ${taskType}: ask for ${model.taskType}, or name another model`, {
    details: { modelId: model.id, type: model.type, taskType },
  });
}

/** How to load a configured model for one caller: what the caller set wins over the settings. */
export function configuredLoad(model: ConfiguredModel, given: LoadFields): LoadFields {
  return {
    numWorkers: given.numWorkers ?? model.numWorkers,
    device: given.device ?? model.device,
    // A model that is not shared is not kept for the next caller.
    keepAlive: given.keepAlive ?? model.keepAlive ?? (model.shared ? undefined : 0),
  };
}
