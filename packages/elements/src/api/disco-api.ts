import type { DataType, FederationApi, SignallingApi, RoundPhase, Scheme, Task, TaskInput } from '@disco/core';

/** One line of `<disco-task-list>`: a task and how lively it is. */
export interface TaskSummary {
  id: string;
  title: string;
  dataType: DataType;
  scheme: Scheme;
  /** Participants active now. */
  participants: number;
  /** Rounds closed so far. */
  rounds: number;
}

/** One round of a task's history. */
export interface RoundInfo {
  round: number;
  state: RoundPhase;
  participants: number;
  samples?: number;
  /** Aggregated client metrics. */
  metrics?: { loss?: number; accuracy?: number; valLoss?: number; valAccuracy?: number };
  durationMs?: number;
  modelVersion?: number;
}

/** One stored version of a task's global model. */
export interface ModelVersionInfo {
  version: number;
  round?: number;
  /** Epoch milliseconds. */
  createdAt: number;
  sizeBytes?: number;
}

/** A TF.js LayersModel in its standard two files, as uploaded with a task. */
export interface ModelUpload {
  /** The parsed `model.json`. */
  modelJson: object;
  /** The concatenated weights (`weights.bin`). */
  weights: ArrayBuffer;
}

/** What went wrong talking to a server. Stable codes, so that elements and pages can switch on them. */
export type DiscoApiErrorCode = 'not-found' | 'unauthorized' | 'invalid' | 'conflict' | 'network' | 'server';

/**
 * An error from a {@link DiscoApi}. `issues` lists validation problems as `path: reason` lines (as the API
 * and core's `validateTask` write them), so a form can show each next to its field.
 */
export class DiscoApiError extends Error {
  readonly code: DiscoApiErrorCode;
  readonly issues: string[];
  constructor(code: DiscoApiErrorCode, message: string, issues: string[] = []) {
    super(message);
    this.name = 'DiscoApiError';
    this.code = code;
    this.issues = issues;
  }
}

/**
 * The small surface of a Disco server that the elements use. {@link createRemoteApi} implements it over
 * `@disco/api/client` for real servers; {@link FakeDiscoApi} in memory, for tests and static stories.
 * Elements take a `server` attribute (a URL) or an `api` property (any implementation).
 */
export interface DiscoApi {
  listTasks(): Promise<TaskSummary[]>;
  getTask(taskId: string): Promise<Task>;
  /** Creates a task; needs the server's admin token. Rejects with a {@link DiscoApiError} listing every problem. */
  createTask(task: TaskInput, options: { adminToken: string; model?: ModelUpload }): Promise<Task>;
  listRounds(taskId: string): Promise<RoundInfo[]>;
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

/** Any error as a {@link DiscoApiError}. */
export function toApiError(error: unknown): DiscoApiError {
  if (error instanceof DiscoApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DiscoApiError(error instanceof TypeError ? 'network' : 'server', message);
}
