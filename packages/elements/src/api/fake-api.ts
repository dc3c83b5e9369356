import { DiscoApiError, parseTask, taskCreationIssues, unenforcedSettings, type FederationApi, type RoundInfo, type SignallingApi, type Task, type TaskInput } from '@disco/core';
import { InMemoryFederation, InMemorySignalling } from '@disco/core/testing';
import type { DiscoApi, ModelUpload, ModelVersionInfo, ServerCapabilities, TaskSummary } from './disco-api.js';

/** Options of {@link FakeDiscoApi}. */
export interface FakeDiscoApiOptions {
  /** The tasks the fake server holds. Default: none. */
  tasks?: TaskInput[];
  /** Past rounds per task id (newest first, as `rounds.list` returns them); the task list counts the closed ones. */
  rounds?: Record<string, RoundInfo[]>;
  /** Model versions per task id (newest first). */
  models?: Record<string, ModelVersionInfo[]>;
  /** Participants active now, per task id (beside those of the in-memory federation). */
  participants?: Record<string, number>;
  /** Milliseconds every call waits before answering, to show loading states. Default 0. */
  latencyMs?: number;
  /** When set, every call rejects with this error (error states). */
  failWith?: DiscoApiError;
  /** The admin token `createTask` accepts. Default `admin`. */
  adminToken?: string;
  /**
   * Whether federated tasks may use secure aggregation (`tasks.capabilities`); `false` plays a server on
   * PostgreSQL, which refuses them (decision 0015). Default `true`.
   */
  federatedSecureAggregation?: boolean;
}

/**
 * An in-browser Disco server for tests and static stories: tasks, rounds and models in memory, task
 * creation validated with core's `validateTask` as the API does, and `@disco/core/testing`'s federation
 * and signalling (the server's own rules and error codes) for the participants of this page; their
 * decentralized models travel over real WebRTC.
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
  /** What `capabilities()` says about federated secure aggregation; `createTask` refuses such a task when `false`, as the server on PostgreSQL does. */
  federatedSecureAggregation: boolean;
  failWith: DiscoApiError | undefined;
  private readonly adminToken: string;
  private readonly createdAt = new Map<string, number>();
  /** The fake's federation; `seed()` it with version 0 of a task's model for collaborative runs. */
  readonly memoryFederation: InMemoryFederation;
  /** The fake's decentralized signalling. */
  readonly memorySignalling: InMemorySignalling;

  constructor(options: FakeDiscoApiOptions = {}) {
    for (const input of options.tasks ?? []) {
      // As the server seeds its tasks: one that asks for what is not enforced is refused.
      const task = parseTask(input);
      const unenforced = unenforcedSettings(task);
      if (unenforced.length) throw new Error(`task "${task.id}" asks for what this version does not enforce:\n  - ${unenforced.join('\n  - ')}`);
      this.add(task);
    }
    for (const [id, rounds] of Object.entries(options.rounds ?? {})) this.rounds.set(id, rounds);
    for (const [id, models] of Object.entries(options.models ?? {})) this.models.set(id, models);
    for (const [id, count] of Object.entries(options.participants ?? {})) this.participants.set(id, count);
    this.latencyMs = options.latencyMs ?? 0;
    this.federatedSecureAggregation = options.federatedSecureAggregation ?? true;
    this.failWith = options.failWith;
    this.adminToken = options.adminToken ?? 'admin';
    const tasks = (taskId: string) => this.tasks.get(taskId);
    this.memoryFederation = new InMemoryFederation({ tasks });
    // Version 0 of a decentralized task's model is the federation's: the seeded one, or the task's own.
    this.memorySignalling = new InMemorySignalling({ tasks, initialModel: (taskId) => this.memoryFederation.downloadWeights(taskId, 0) });
  }

  async listTasks(): Promise<TaskSummary[]> {
    await this.answer();
    return [...this.tasks.values()].map((task) => {
      const rounds = this.roundsOf(task.id);
      const current = rounds.find((r) => r.phase === 'open') ?? null;
      return {
        task: structuredClone(task),
        builtin: false,
        createdAt: this.createdAt.get(task.id) ?? 0,
        uploadedModel: this.uploads.has(task.id),
        parameterCount: 0,
        participants: (this.participants.get(task.id) ?? 0) + this.memoryFederation.activeCount(task.id),
        roundsClosed: rounds.filter((r) => r.phase === 'closed').length,
        currentRound: current && { number: current.number, phase: current.phase, deadline: current.deadline },
        latestVersion: Math.max(0, ...rounds.map((r) => r.modelVersion ?? 0)),
      };
    });
  }

  async getTask(taskId: string): Promise<Task> {
    await this.answer();
    return structuredClone(this.task(taskId));
  }

  async capabilities(): Promise<ServerCapabilities> {
    await this.answer();
    return { database: this.federatedSecureAggregation ? 'sqlite' : 'postgres', federatedSecureAggregation: this.federatedSecureAggregation };
  }

  async createTask(input: TaskInput, options: { adminToken: string; model?: ModelUpload }): Promise<Task> {
    await this.answer();
    if (!options.adminToken) throw new DiscoApiError('UNAUTHORIZED', 'this needs the admin token (Authorization: Bearer <admin token>)');
    if (options.adminToken !== this.adminToken) throw new DiscoApiError('FORBIDDEN', 'wrong admin token');
    // The server's own checks, in its order and with its messages.
    const checked = taskCreationIssues(input, options.model !== undefined);
    if (!checked.ok) throw new DiscoApiError('INVALID_TASK', `Invalid task:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}`, checked.errors);
    const task = checked.task;
    if (this.tasks.has(task.id)) throw new DiscoApiError('CONFLICT', `task "${task.id}" already exists`, [`id: a task "${task.id}" already exists`]);
    if (!this.federatedSecureAggregation && task.scheme === 'federated' && task.privacy.secureAggregation)
      throw new DiscoApiError(
        'BAD_REQUEST',
        `task "${task.id}" uses secure aggregation (privacy.secureAggregation), which this server does not run on PostgreSQL (decision 0015)`,
      );
    if (options.model) this.uploads.set(task.id, options.model);
    this.add(task);
    return structuredClone(task);
  }

  async listRounds(taskId: string): Promise<RoundInfo[]> {
    await this.answer();
    this.task(taskId);
    return this.roundsOf(taskId);
  }

  async listModels(taskId: string): Promise<ModelVersionInfo[]> {
    await this.answer();
    this.task(taskId);
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

  private add(task: Task): void {
    this.tasks.set(task.id, task);
    this.createdAt.set(task.id, Date.now());
  }

  /** The given history and the in-memory federation's rounds, newest first. */
  private roundsOf(taskId: string): RoundInfo[] {
    return [...this.memoryFederation.roundsOf(taskId), ...(this.rounds.get(taskId) ?? [])].sort((a, b) => b.number - a.number);
  }

  private task(taskId: string): Task {
    const task = this.tasks.get(taskId);
    if (!task) throw new DiscoApiError('NOT_FOUND', `task "${taskId}" does not exist`);
    return task;
  }

  private async answer(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.failWith) throw this.failWith;
  }
}
