import {
  buildModel,
  decodeWeights,
  encodeWeights,
  getFlatWeights,
  type FederationApi,
  type JoinResult,
  type RoundState,
  type Task,
  type TransferStats,
} from '@disco/core';
import { DiscoApiError, type RoundInfo } from './disco-api.js';

interface Participant {
  id: string;
  taskId: string;
}

interface TaskRounds {
  round: number;
  /** Encoded global weights by version. */
  versions: Uint8Array[];
  /** Updates of the open round: participant id → decoded delta and sample count. */
  updates: Map<string, { delta: Float32Array; samples: number; metrics: Record<string, number> }>;
  history: RoundInfo[];
  openedAt: number;
  listeners: Set<(state: RoundState) => void>;
}

/**
 * The federation of {@link FakeDiscoApi}: synchronous FedAvg rounds between the participants of one page,
 * in memory. A round closes as soon as every active participant (and at least the task's minimum) has
 * submitted. Version 0 of a task's model is whatever {@link InMemoryFederation.seed} was given, or else the
 * task's built-in architecture initialised with the task's seed (as every participant would build it).
 */
export class InMemoryFederation implements FederationApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  private readonly participants = new Map<string, Participant>();
  private readonly byTask = new Map<string, TaskRounds>();
  private counter = 0;

  constructor(private readonly taskOf: (taskId: string) => Task | undefined) {}

  /** Sets version 0 of a task's global model (encoded with core's weights codec). */
  seed(taskId: string, encoded: Uint8Array): void {
    const rounds = this.rounds(taskId);
    if (rounds.versions.length === 0) rounds.versions.push(encoded);
  }

  /** Closed and open rounds of a task, for `listRounds`. */
  roundsOf(taskId: string): RoundInfo[] {
    return [...(this.byTask.get(taskId)?.history ?? [])];
  }

  async join(taskId: string, options: { token?: string } = {}): Promise<JoinResult> {
    const task = this.taskOrThrow(taskId);
    const known = options.token ? this.participants.get(options.token) : undefined;
    const token = known ? options.token! : `fake-${++this.counter}-${crypto.randomUUID()}`;
    if (!known) this.participants.set(token, { id: `participant-${this.counter}`, taskId });
    return { participantId: this.participants.get(token)!.id, token, task: structuredClone(task), state: this.state(taskId) };
  }

  async heartbeat(token: string): Promise<RoundState> {
    return this.state(this.participant(token).taskId);
  }

  async downloadWeights(taskId: string, version?: number): Promise<Uint8Array> {
    const rounds = this.rounds(taskId);
    if (rounds.versions.length === 0) this.seedFromTask(this.taskOrThrow(taskId));
    const v = version ?? rounds.versions.length - 1;
    const bytes = rounds.versions[v];
    if (!bytes) throw new DiscoApiError('not-found', `Task "${taskId}" has no model version ${v} yet.`);
    this.stats.bytesReceived += bytes.byteLength;
    return bytes.slice();
  }

  async submitUpdate(token: string, round: number, update: Uint8Array): Promise<{ accepted: true; round: number }> {
    const participant = this.participant(token);
    const task = this.taskOrThrow(participant.taskId);
    const rounds = this.rounds(participant.taskId);
    this.stats.bytesSent += update.byteLength;
    if (round !== rounds.round) throw new DiscoApiError('conflict', `Round ${round} is not open; the current round is ${rounds.round}.`);
    if (rounds.updates.has(participant.id)) throw new DiscoApiError('conflict', `Already submitted an update for round ${round}.`);
    const { header, weights } = decodeWeights(update);
    const meta = (header.meta ?? {}) as Record<string, number>;
    rounds.updates.set(participant.id, { delta: weights.values, samples: Number(meta.samples ?? 1), metrics: meta });
    const active = [...this.participants.values()].filter((p) => p.taskId === participant.taskId).length;
    if (rounds.updates.size >= Math.max(active, task.scheme === 'local' ? 1 : Math.min(task.minParticipants, active))) this.aggregate(participant.taskId);
    else this.notify(participant.taskId);
    return { accepted: true, round };
  }

  async leave(token: string): Promise<void> {
    const participant = this.participants.get(token);
    this.participants.delete(token);
    if (participant) this.notify(participant.taskId);
  }

  watchRounds(taskId: string, _token: string, listener: (state: RoundState) => void): () => void {
    const rounds = this.rounds(taskId);
    rounds.listeners.add(listener);
    return () => rounds.listeners.delete(listener);
  }

  close(): void {
    for (const rounds of this.byTask.values()) rounds.listeners.clear();
  }

  private seedFromTask(task: Task): void {
    if (task.model.source !== 'builtin') throw new DiscoApiError('not-found', `Task "${task.id}" has no initial model; seed() one.`);
    const model = buildModel(task);
    try {
      this.seed(task.id, encodeWeights(getFlatWeights(model), { taskId: task.id, modelVersion: 0 }));
    } finally {
      model.dispose();
    }
  }

  private aggregate(taskId: string): void {
    const rounds = this.rounds(taskId);
    const previous = decodeWeights(rounds.versions[rounds.round - 1]!);
    const values = new Float32Array(previous.weights.values);
    let total = 0;
    for (const { samples } of rounds.updates.values()) total += samples;
    for (const { delta, samples } of rounds.updates.values()) {
      const w = samples / total;
      for (let i = 0; i < values.length; i++) values[i]! += w * delta[i]!;
    }
    const mean = (key: string) => {
      const known = [...rounds.updates.values()].filter((u) => typeof u.metrics[key] === 'number');
      return known.length ? known.reduce((s, u) => s + u.metrics[key]! * u.samples, 0) / known.reduce((s, u) => s + u.samples, 0) : undefined;
    };
    rounds.versions.push(
      encodeWeights({ values, shapes: previous.weights.shapes }, { taskId, modelVersion: rounds.round }),
    );
    rounds.history.push({
      round: rounds.round,
      state: 'closed',
      participants: rounds.updates.size,
      samples: total,
      metrics: { loss: mean('loss'), accuracy: mean('accuracy'), valLoss: mean('valLoss'), valAccuracy: mean('valAccuracy') },
      durationMs: Date.now() - rounds.openedAt,
      modelVersion: rounds.round,
    });
    rounds.round += 1;
    rounds.updates.clear();
    rounds.openedAt = Date.now();
    this.notify(taskId);
  }

  private state(taskId: string): RoundState {
    const rounds = this.rounds(taskId);
    const last = rounds.history.at(-1);
    return {
      taskId,
      round: rounds.round,
      phase: 'open',
      modelVersion: Math.max(0, rounds.versions.length - 1),
      participants: [...this.participants.values()].filter((p) => p.taskId === taskId).length,
      submitted: rounds.updates.size,
      deadline: null,
      metrics: last?.metrics,
    };
  }

  private notify(taskId: string): void {
    const state = this.state(taskId);
    for (const listener of this.rounds(taskId).listeners) listener(state);
  }

  private rounds(taskId: string): TaskRounds {
    let rounds = this.byTask.get(taskId);
    if (!rounds) {
      rounds = { round: 1, versions: [], updates: new Map(), history: [], openedAt: Date.now(), listeners: new Set() };
      this.byTask.set(taskId, rounds);
    }
    return rounds;
  }

  private participant(token: string): Participant {
    const participant = this.participants.get(token);
    if (!participant) throw new DiscoApiError('unauthorized', 'Unknown participant token; join the task again.');
    return participant;
  }

  private taskOrThrow(taskId: string): Task {
    const task = this.taskOf(taskId);
    if (!task) throw new DiscoApiError('not-found', `No task "${taskId}" on this server.`);
    return task;
  }
}
