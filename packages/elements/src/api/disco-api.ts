import type { FederationApi, RoundInfo, SignallingApi, Task, TaskInput } from '@disco/core';
import type { ModelVersionInfo, ServerCapabilities, TaskSummary } from '@disco/client';

export type { ModelVersionInfo, RoundInfo, ServerCapabilities, TaskSummary };

/** A TF.js LayersModel in its standard two files, as uploaded with a task. */
export interface ModelUpload {
  /** The parsed `model.json`. */
  modelJson: Record<string, unknown>;
  /** The concatenated weights (`weights.bin`). */
  weights: ArrayBuffer;
}

/**
 * The small surface of a Disco server that the elements use, in the server's own vocabulary (the shapes
 * `@disco/client` infers from its router, core's `DiscoApiError` for every refusal). {@link createRemoteApi}
 * implements it over `@disco/client` for real servers; {@link FakeDiscoApi} in memory over
 * `@disco/core/testing`, for tests and static stories. Elements take a `server` attribute (a URL) or an
 * `api` property (any implementation).
 */
export interface DiscoApi {
  /** The tasks and how lively each is (`tasks.list`). */
  listTasks(): Promise<TaskSummary[]>;
  getTask(taskId: string): Promise<Task>;
  /**
   * What the server supports when it runs tasks (`tasks.capabilities`), e.g. whether a federated task may use
   * secure aggregation (not on PostgreSQL, decision 0015). Optional: without it, everything is assumed supported.
   */
  capabilities?(): Promise<ServerCapabilities>;
  /** Creates a task; needs the server's admin token. Rejects with a `DiscoApiError` listing every problem in `issues`. */
  createTask(task: TaskInput, options: { adminToken: string; model?: ModelUpload }): Promise<Task>;
  /** A task's rounds, newest first (`rounds.list`). */
  listRounds(taskId: string): Promise<RoundInfo[]>;
  /** A task's model versions, newest first (`models.list`). */
  listModels(taskId: string): Promise<ModelVersionInfo[]>;
  /** The federation port that federated training uses. */
  federation(): Promise<FederationApi>;
  /**
   * The signalling port that decentralized training uses (the server introduces the peers; models go
   * from browser to browser). Optional: without it, `<disco-train>` refuses decentralized training.
   */
  peers?(): Promise<SignallingApi>;
  /** Closes connections. */
  close(): void;
}
