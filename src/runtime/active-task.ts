/**
 * A task() request inside a loaded model, listed by ps from the moment it has the model until it
 * ends: queued until an instance takes it, then running.
 */
import type { TaskType } from './backends/backend.js';
import type { TaskInfo } from './types.js';

export class ActiveTask {
  #state: TaskInfo['state'] = 'queued';
  #since = Date.now();

  constructor(
    readonly taskType: TaskType,
    readonly maxTokens: number | undefined,
    private readonly list: Set<ActiveTask>,
  ) {
    list.add(this);
  }

  /** An instance took it. */
  start(): void {
    this.#state = 'running';
    this.#since = Date.now();
  }

  end(): void {
    this.list.delete(this);
  }

  info(): TaskInfo {
    return { taskType: this.taskType, state: this.#state, since: new Date(this.#since).toISOString(), ...(this.maxTokens === undefined ? {} : { maxTokens: this.maxTokens }) };
  }
}
