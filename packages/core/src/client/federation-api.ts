import type { ClientMetrics } from '../aggregation/metrics.js';
import type { EncryptedShare, KeyAdvertisement, UnmaskRequest, UnmaskResponse } from '../secure/masking.js';
import type { Task } from '../task/schema.js';

/**
 * The port through which a {@link FederatedClient} talks to a Disco server. `@disco/api/client` implements it
 * over tRPC (control messages) and binary HTTP (weights); tests may implement it in memory. Keeping it here
 * lets core stay free of the server's types while the implementation is checked against it.
 */
/**
 * `open`: training, updates (or, in a secure round, key advertisements) come in. A secure round then goes
 * through `sharing` (sealed Shamir shares), `masking` (masked inputs) and `unmasking` (revealed shares) before
 * `aggregating` (decision 0010).
 */
export type RoundPhase = 'open' | 'sharing' | 'masking' | 'unmasking' | 'aggregating' | 'closed' | 'failed';

/** The differential privacy spent by a task so far (decision 0011), as the server accounts it after each round. */
export interface PrivacySpentState {
  /** ε spent by the closed rounds so far, at {@link delta}. */
  epsilon: number;
  delta: number;
  /** The task's ε budget, when it has one. */
  budget?: number;
  /** True once the next round would exceed the budget: no further round opens. */
  exhausted: boolean;
}

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
  /** Tasks with differential privacy: what the closed rounds spent. */
  privacy?: PrivacySpentState;
  /**
   * `async` for asynchronous tasks (decision 0013): `round` is then the version being buffered
   * (`modelVersion + 1`), `submitted` the updates in its buffer (of `bufferSize`), `deadline` null, and a
   * participant may submit at any time an update trained from any version at most `maxStaleness` old.
   */
  mode?: 'async';
  bufferSize?: number;
}

/** One update that went into a version of an asynchronous task. */
export interface VersionContribution {
  /** The contributing participant's id (as `join` returned it). */
  participantId: string;
  /** Versions between the update's base model and the version it was aggregated into, minus one (0: fresh). */
  staleness: number;
  /** Its weight relative to a fresh update (the task's staleness weighting). */
  weight: number;
  samples: number;
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
  /** Tasks with differential privacy: ε spent up to and including this round (closed rounds), at `delta`. */
  epsilon: number | null;
  delta: number | null;
  /** Updates the server clipped to the task's norm bound in this round. */
  clipped: number;
  /** Asynchronous tasks: the updates aggregated into this version, with their staleness (closed versions). */
  contributions?: VersionContribution[];
}

/** What the server says of an accepted update. */
export interface SubmitResult {
  accepted: true;
  round: number;
  /**
   * Asynchronous tasks: `round` is the version the update was buffered for; `staleness` how many versions
   * had been published since its base model (0: trained from the latest).
   */
  staleness?: number;
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
  submitUpdate(token: string, round: number, update: Uint8Array): Promise<SubmitResult>;
  /**
   * Tasks with a sampling rate q < 1: says this participant sits out `round` (its coin came up tails), so
   * that the round does not wait for it.
   */
  skipRound(token: string, round: number): Promise<void>;
  /** The steps of a secure round (tasks with `privacy.secureAggregation`; decision 0010). */
  readonly secure: SecureRoundApi;
  leave(token: string): Promise<void>;
  /** Calls `listener` on every round state change of the task; returns the unsubscribe function. */
  watchRounds(taskId: string, token: string, listener: (state: RoundState) => void, onError?: (error: Error) => void): () => void;
  readonly stats: TransferStats;
  /** Closes connections (WebSocket). */
  close(): void;
}

/**
 * The messages of a secure round between a participant and the server, one call per step of
 * `SecureAggregationClient` (`secure/masking.ts`). Each call is refused (`ROUND_NOT_OPEN`, naming the phase)
 * outside its phase; the server binds every message to the token's participant.
 */
export interface SecureRoundApi {
  /** Step 0 (phase `open`, after local training): this participant's public keys; counts as its submission. */
  advertiseKeys(token: string, round: number, keys: Omit<KeyAdvertisement, 'id'>): Promise<void>;
  /** Phase `sharing`: the roster U1 (every advertisement, this participant's included). */
  roster(token: string, round: number): Promise<KeyAdvertisement[]>;
  /** Step 1 (phase `sharing`): one sealed pair of shares for each other member of the roster. */
  sendShares(token: string, round: number, shares: EncryptedShare[]): Promise<void>;
  /** Phase `masking`: the sealed shares addressed to this participant. */
  sharesFor(token: string, round: number): Promise<EncryptedShare[]>;
  /** Step 2 (phase `masking`): the masked fixed-point input, as binary (4 bytes a word, little-endian). */
  submitMasked(token: string, round: number, masked: Uint32Array): Promise<void>;
  /** Phase `unmasking`: whose masked inputs are in the sum. */
  unmaskRequest(token: string, round: number): Promise<UnmaskRequest>;
  /** Step 3 (phase `unmasking`): the shares this participant reveals. */
  revealShares(token: string, round: number, response: Omit<UnmaskResponse, 'from'>): Promise<void>;
}
