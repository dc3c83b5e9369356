import { parseTask, validateTask, type FederationApi, type SignallingApi, type Task, type TaskInput } from '@disco/core';
import { DiscoApiError, type DiscoApi, type ModelUpload, type ModelVersionInfo, type RoundInfo, type TaskSummary } from './disco-api.js';
import { InMemoryFederation } from './in-memory-federation.js';
import { InMemorySignalling } from './in-memory-signalling.js';

/** Options of {@link FakeDiscoApi}. */
export interface FakeDiscoApiOptions {
  /** The tasks the fake server holds. Default: none. */
  tasks?: TaskInput[];
  /** Rounds history per task id; the task list counts the closed ones. */
  rounds?: Record<string, RoundInfo[]>;
  /** Model versions per task id. */
  models?: Record<string, ModelVersionInfo[]>;
  /** Participants active now, per task id. */
  participants?: Record<string, number>;
  /** Milliseconds every call waits before answering, to show loading states. Default 0. */
  latencyMs?: number;
  /** When set, every call rejects with this error (error states). */
  failWith?: DiscoApiError;
  /** The admin token `createTask` accepts. Default `admin`. */
  adminToken?: string;
}

/**
 * An in-browser Disco server for tests and static stories: tasks, rounds and models in memory, task
 * creation validated with core's `validateTask` exactly like the API does, an in-memory federation
 * that aggregates the updates of the participants of this page, and in-memory signalling that introduces
 * them to each other for decentralized training (their models then travel over real WebRTC).
 *
 * ```ts
 * const api = new FakeDiscoApi({ tasks: [titanicTask] });
 * html`<disco-task-list .api=${api}></disco-task-list>`;
 * ```
 */
export class FakeDiscoApi implements DiscoApi {
  readonly tasks = new Map<string, Task>();
  readonly rounds = new Map<string, RoundInfo[]>();
  readonly models = new Map<string, ModelVersionInfo[]>();
  readonly participants = new Map<string, number>();
  /** Uploaded TF.js models, by task id. */
  readonly uploads = new Map<string, ModelUpload>();
  latencyMs: number;
  failWith: DiscoApiError | undefined;
  private readonly adminToken: string;
  /** The fake's federation; `seed()` it with version 0 of a task's model for collaborative runs. */
  readonly memoryFederation: InMemoryFederation;
  /** The fake's decentralized signalling. */
  readonly memorySignalling: InMemorySignalling;

  constructor(options: FakeDiscoApiOptions = {}) {
    for (const input of options.tasks ?? []) {
      const task = parseTask(input);
      this.tasks.set(task.id, task);
    }
    for (const [id, rounds] of Object.entries(options.rounds ?? {})) this.rounds.set(id, rounds);
    for (const [id, models] of Object.entries(options.models ?? {})) this.models.set(id, models);
    for (const [id, count] of Object.entries(options.participants ?? {})) this.participants.set(id, count);
    this.latencyMs = options.latencyMs ?? 0;
    this.failWith = options.failWith;
    this.adminToken = options.adminToken ?? 'admin';
    this.memoryFederation = new InMemoryFederation((taskId) => this.tasks.get(taskId));
    // Version 0 of a decentralized task's model is the federation's: the seeded one, or the task's own.
    this.memorySignalling = new InMemorySignalling((taskId) => this.tasks.get(taskId), (taskId) => this.memoryFederation.downloadWeights(taskId, 0));
  }

  async listTasks(): Promise<TaskSummary[]> {
    await this.answer();
    return [...this.tasks.values()].map((task) => ({
      id: task.id,
      title: task.title,
      dataType: task.dataType,
      scheme: task.scheme,
      participants: this.participants.get(task.id) ?? 0,
      rounds: (this.rounds.get(task.id) ?? []).filter((r) => r.state === 'closed').length,
    }));
  }

  async getTask(taskId: string): Promise<Task> {
    await this.answer();
    const task = this.tasks.get(taskId);
    if (!task) throw new DiscoApiError('not-found', `No task "${taskId}" on this server.`);
    return structuredClone(task);
  }

  async createTask(input: TaskInput, options: { adminToken: string; model?: ModelUpload }): Promise<Task> {
    await this.answer();
    if (options.adminToken !== this.adminToken) throw new DiscoApiError('unauthorized', 'The admin token is missing or wrong.');
    const result = validateTask(input);
    if (!result.ok) throw new DiscoApiError('invalid', `Invalid task:\n${result.errors.join('\n')}`, result.errors);
    const task = result.task;
    if (this.tasks.has(task.id)) {
      const issue = `id: a task "${task.id}" already exists`;
      throw new DiscoApiError('conflict', issue, [issue]);
    }
    if (task.model.source === 'tfjs') {
      if (!options.model) {
        const issue = 'model: upload the model.json and weights.bin of a TF.js model';
        throw new DiscoApiError('invalid', issue, [issue]);
      }
      this.uploads.set(task.id, options.model);
    }
    this.tasks.set(task.id, task);
    return structuredClone(task);
  }

  async listRounds(taskId: string): Promise<RoundInfo[]> {
    await this.answer();
    await this.getTaskOrThrow(taskId);
    return [...(this.rounds.get(taskId) ?? []), ...this.memoryFederation.roundsOf(taskId)];
  }

  async listModels(taskId: string): Promise<ModelVersionInfo[]> {
    await this.answer();
    await this.getTaskOrThrow(taskId);
    return [...(this.models.get(taskId) ?? [])];
  }

  async federation(): Promise<FederationApi> {
    await this.answer();
    return this.memoryFederation;
  }

  async peers(): Promise<SignallingApi> {
    await this.answer();
    return this.memorySignalling;
  }

  close(): void {
    this.memoryFederation.close();
    this.memorySignalling.close();
  }

  private async getTaskOrThrow(taskId: string): Promise<Task> {
    const task = this.tasks.get(taskId);
    if (!task) throw new DiscoApiError('not-found', `No task "${taskId}" on this server.`);
    return task;
  }

  private async answer(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.failWith) throw this.failWith;
  }
}
