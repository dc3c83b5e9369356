import { fedavg, type Aggregator } from '../aggregation/index.js';
import type { Task } from '../task/schema.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import { add, type FlatWeights } from '../weights/flat.js';
import type { FederationApi, JoinResult, RoundState, TransferStats } from './federation-api.js';

/** A refusal or failure as the real client reports it: a message, a precise `code` and an HTTP `status` (0: no answer). */
export class InMemoryFederationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'InMemoryFederationError';
  }
}

/**
 * A {@link FederationApi} served from memory: synchronous FedAvg rounds over the submitted deltas, for tests,
 * demos and stories that need a federation without a server. A round closes when every joined participant
 * (and at least `minParticipants`) has submitted, or when {@link closeRound} is called (as a deadline would).
 * Announcements arrive asynchronously, as over a WebSocket. Runs in browsers and in Node.
 *
 * @example
 * ```ts
 * const federation = new InMemoryFederation(task, getFlatWeights(buildModel(task)));
 * const client = new FederatedClient({ api: federation, taskId: task.id, dataset });
 * ```
 */
export class InMemoryFederation implements FederationApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  /** Every call, by name (`join`, `heartbeat`, `download`, `submit`, `leave`), in order. */
  readonly calls: string[] = [];
  /** While true every call fails as if the server were down. */
  offline = false;
  /** Calls of these kinds fail as if the server were down, this many more times each. */
  readonly failNext: Record<string, number> = {};
  private readonly tokens = new Map<string, { id: string; left: boolean }>();
  private readonly versions: Uint8Array[] = [];
  private readonly watchers = new Set<(state: RoundState) => void>();
  private global: FlatWeights;
  private round = 1;
  private aggregator: Aggregator;
  private submitted = new Set<string>();

  /**
   * @param task the task served (its `training.rounds` is when the state says `closed` for good).
   * @param initial version 0 of the global model.
   */
  constructor(
    readonly task: Task,
    initial: FlatWeights,
    private readonly minParticipants = 1,
  ) {
    this.global = initial;
    this.versions.push(encodeWeights(initial, { taskId: task.id, modelVersion: 0 }));
    this.aggregator = fedavg.createAggregator(initial.values.length);
  }

  /** The latest global model version. */
  get version(): number {
    return this.versions.length - 1;
  }

  /** The round state clients see now. */
  state(): RoundState {
    return {
      taskId: this.task.id,
      round: this.round,
      phase: this.version >= this.task.training.rounds ? 'closed' : 'open',
      modelVersion: this.version,
      participants: [...this.tokens.values()].filter((p) => !p.left).length,
      submitted: this.submitted.size,
      deadline: null,
    };
  }

  async join(taskId: string, options?: { token?: string }): Promise<JoinResult> {
    this.online('join');
    if (taskId !== this.task.id) throw new InMemoryFederationError('NOT_FOUND', `task "${taskId}" does not exist`, 404);
    const token = options?.token ?? `token-${this.tokens.size + 1}`;
    const participant = this.tokens.get(token) ?? { id: `participant-${this.tokens.size + 1}`, left: false };
    participant.left = false;
    this.tokens.set(token, participant);
    this.broadcast();
    return { participantId: participant.id, token, task: this.task, state: this.state() };
  }

  async heartbeat(token: string): Promise<RoundState> {
    this.online('heartbeat');
    this.participant(token);
    return this.state();
  }

  async downloadWeights(_taskId: string, version?: number): Promise<Uint8Array> {
    this.online('download');
    const bytes = this.versions[version ?? this.version];
    if (!bytes) throw new InMemoryFederationError('NOT_FOUND', `model version ${version} does not exist`, 404);
    this.stats.bytesReceived += bytes.length;
    return bytes;
  }

  async submitUpdate(token: string, round: number, update: Uint8Array): Promise<{ accepted: true; round: number }> {
    this.online('submit');
    const participant = this.participant(token);
    this.stats.bytesSent += update.length;
    if (round !== this.round || this.state().phase !== 'open')
      throw new InMemoryFederationError('WRONG_ROUND', `round ${round} is closed; the current round is ${this.round}`, 409);
    const { header, weights } = decodeWeights(update);
    if (header.modelVersion !== this.version)
      throw new InMemoryFederationError('STALE_MODEL', `the update is computed from version ${header.modelVersion}, not ${this.version}`, 409);
    this.aggregator.add(weights.values, header.meta?.samples ?? 1);
    this.submitted.add(participant.id);
    const active = [...this.tokens.values()].filter((p) => !p.left).length;
    if (this.submitted.size >= Math.max(active, this.minParticipants)) this.closeRound();
    return { accepted: true, round };
  }

  /** Closes the round with whoever submitted (as a deadline would); without updates, no new version. */
  closeRound(): void {
    if (this.aggregator.count > 0) {
      this.global = { values: add(this.global.values, this.aggregator.result()), shapes: this.global.shapes };
      this.versions.push(encodeWeights(this.global, { taskId: this.task.id, modelVersion: this.version + 1 }));
    }
    this.round += 1;
    this.submitted = new Set();
    this.aggregator = fedavg.createAggregator(this.global.values.length);
    this.broadcast();
  }

  async leave(token: string): Promise<void> {
    this.online('leave');
    this.participant(token).left = true;
    this.broadcast();
  }

  watchRounds(_taskId: string, _token: string, listener: (state: RoundState) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  close(): void {
    this.watchers.clear();
  }

  private online(call: string): void {
    this.calls.push(call);
    const down = this.offline || (this.failNext[call] ?? 0) > 0;
    if (this.failNext[call] > 0) this.failNext[call] -= 1;
    if (down) throw new InMemoryFederationError('ERROR', 'fetch failed', 0);
  }

  private participant(token: string): { id: string; left: boolean } {
    const participant = this.tokens.get(token);
    if (!participant || participant.left) throw new InMemoryFederationError('UNAUTHORIZED', 'unknown participant token', 401);
    return participant;
  }

  private broadcast(): void {
    const state = this.state();
    for (const watcher of this.watchers) queueMicrotask(() => watcher(state));
  }
}
