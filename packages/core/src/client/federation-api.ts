import type { ClientMetrics } from '../aggregation/metrics.js';
import type { Task } from '../task/schema.js';

/**
 * The port through which a {@link FederatedClient} talks to a Disco server. `@disco/api/client` implements it
 * over tRPC (control messages) and binary HTTP (weights); tests may implement it in memory. Keeping it here
 * lets core stay free of the server's types while the implementation is checked against it.
 */
export type RoundPhase = 'open' | 'aggregating' | 'closed' | 'failed';

export interface RoundState {
  taskId: string;
  /** Round number, starting at 1. Round r trains from model version r - 1 and produces version r. */
  round: number;
  phase: RoundPhase;
  /** The latest global model version available for download. */
  modelVersion: number;
  /** Participants active in the task now (heartbeat within the timeout). */
  participants: number;
  /** Updates received for this round so far. */
  submitted: number;
  /** Epoch milliseconds at which the round closes with whoever has submitted, or null before it starts. */
  deadline: number | null;
  /** Aggregated client metrics of the last closed round, when known, with the examples they cover. */
  metrics?: ClientMetrics & { samples?: number };
}

/** One round of a task's history, as `rounds.list` returns it. */
export interface RoundInfo {
  number: number;
  phase: RoundPhase;
  /** Version trained from, and version produced (closed rounds). */
  baseVersion: number;
  modelVersion: number | null;
  participants: number;
  submitted: number;
  samples: number;
  /** Sample-weighted mean of the clients' metrics (closed rounds). */
  metrics: ClientMetrics | null;
  strategy: string;
  openedAt: number;
  deadline: number | null;
  closedAt: number | null;
  durationMs: number | null;
  extensions: number;
  failureReason: string | null;
}

export interface JoinResult {
  participantId: string;
  /** Unguessable bearer token bound to this task; every later call carries it. */
  token: string;
  task: Task;
  state: RoundState;
}

/** Wire statistics, so that benchmarks and the UI can report bytes exchanged. */
export interface TransferStats {
  bytesSent: number;
  bytesReceived: number;
}

export interface FederationApi {
  /** Joins a task, or rejoins with a token kept from an earlier session. */
  join(taskId: string, options?: { token?: string }): Promise<JoinResult>;
  /** Keeps the participant active and returns the current round state. */
  heartbeat(token: string): Promise<RoundState>;
  /** Downloads an encoded global model (the `@disco/core` weights codec); the latest when `version` is omitted. */
  downloadWeights(taskId: string, version?: number): Promise<Uint8Array>;
  /**
   * Submits an encoded update for a round: the weights codec over the *difference* local weights − global
   * weights of version round − 1, in the task's quantization; header `meta` carries `samples` (training
   * examples, the FedAvg weight) and the local metrics (`loss`, `accuracy`, `valLoss`, `valAccuracy`).
   * Rejects with an error whose message names the problem (e.g. the current round) when refused.
   */
  submitUpdate(token: string, round: number, update: Uint8Array): Promise<{ accepted: true; round: number }>;
  leave(token: string): Promise<void>;
  /** Calls `listener` on every round state change of the task; returns the unsubscribe function. */
  watchRounds(taskId: string, token: string, listener: (state: RoundState) => void, onError?: (error: Error) => void): () => void;
  readonly stats: TransferStats;
  /** Closes connections (WebSocket). */
  close(): void;
}
