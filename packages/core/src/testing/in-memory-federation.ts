import { admitAsyncUpdate, allowsRepeatUpdates, decideVersion, duplicateInBuffer } from '../aggregation/async-policy.js';
import { weightedMetrics, type ClientMetrics } from '../aggregation/metrics.js';
import { asyncSettings, isAsync } from '../aggregation/staleness.js';
import { decideRound, DEFAULT_MAX_MISSED_ROUNDS, isWaitedFor } from '../aggregation/round-policy.js';
import { applyServerOptimizer, type ServerOptimizerState } from '../aggregation/server-optimizer.js';
import { DiscoApiError } from '../client/api-errors.js';
import { aggregateProblem, checkUpdate } from '../client/check-update.js';
import type { FederationApi, JoinResult, RoundInfo, RoundState, SecureRoundApi, SubmitResult, TransferStats, VersionContribution } from '../client/federation-api.js';
import { buildModel } from '../model/build.js';
import { getFlatWeights } from '../model/flat-weights.js';
import type { AccountantState } from '../privacy/accountant.js';
import { createBufferAggregator, type BufferAggregator } from '../privacy/async-rounds.js';
import { accountRound, budgetExhaustedMessage, createRoundAggregator, privacyState, type RoundAggregator } from '../privacy/rounds.js';
import type { Task } from '../task/schema.js';
import { decodeWeights, encodeWeights, readWeightsHeader } from '../weights/codec.js';
import { add, type FlatWeights } from '../weights/flat.js';
import { InMemorySecureSteps } from './in-memory-secure.js';

export interface InMemoryFederationOptions {
  /** The tasks served: a list, or a lookup (e.g. a fake server's task map, read on every call). */
  tasks: readonly Task[] | ((taskId: string) => Task | undefined);
  /**
   * Version 0 of a task's global model. Default: the task's built-in architecture initialised with the
   * task's seed, as every participant builds it. Also settable later with {@link InMemoryFederation.seed}.
   */
  initial?: Record<string, FlatWeights>;
  /** Deadline extensions before a short round fails, as the server's `maxExtensions`. Default 0. */
  maxExtensions?: number;
}

interface Participant {
  id: string;
  taskId: string;
  left: boolean;
  /** The first round it is waited for in (the server's rule: this round if it has no update yet, else the next). */
  firstRound: number;
  /** The last round it sent an update for or sat out; null before the first. */
  lastRound: number | null;
}

/** A task's federation: its versions, the open round and the history. */
interface TaskFederation {
  versions: Uint8Array[];
  global: FlatWeights;
  round: number;
  openedAt: number;
  extensions: number;
  /** The task's aggregation strategy, by name. */
  strategy: string;
  /** The task's strategy, behind central clipping and noise when the task asks for them (as on the server). */
  aggregator: RoundAggregator;
  updates: Map<string, { samples: number; metrics: ClientMetrics }>;
  /** Participants that sat the open round out (sampling). */
  skipped: Set<string>;
  /** The accountant after the last closed round (tasks with noise). */
  accountant: AccountantState | null;
  /** The server optimizer's state after the last closed round (`aggregation.serverOptimizer`). */
  optimizerState: ServerOptimizerState;
  /** The privacy budget is spent: the last round closed and no other opens. */
  finished: boolean;
  history: RoundInfo[];
  watchers: Set<(state: RoundState) => void>;
  /** Asynchronous tasks (decision 0013): the buffer of the version being built (`round`), and what is in it. */
  buffer: BufferAggregator | null;
  contributions: (VersionContribution & { metrics: ClientMetrics; baseVersion: number; checksum: number })[];
}

/**
 * A {@link FederationApi} served from memory that behaves like the server: rounds per task closed by the
 * server's own rule (`decideRound`), the task's aggregation strategy, every update checked by the server's
 * own `checkUpdate`, and the server's refusals (`DiscoApiError`s with the same codes and statuses). For
 * tests, demos and stories that need a federation without a server; runs in browsers and in Node.
 *
 * A round closes when every active participant (and at least the task's `minParticipants`) has submitted,
 * or at {@link closeRound} (what the server's deadline does: aggregate if enough updates came, else fail).
 * An asynchronous task (`mode: 'async'`, FedBuff) runs core's rules instead (`admitAsyncUpdate`,
 * `decideVersion`, `createBufferAggregator`): an update is accepted whenever it arrives, within `maxStaleness`
 * versions of the latest, into the buffer of the next version, which is published every K updates; `roundsOf`
 * lists each version's contributions with their staleness.
 * Announcements arrive asynchronously, as over a WebSocket. `stats` counts the weights both ways.
 *
 * @example
 * ```ts
 * const federation = new InMemoryFederation({ tasks: [task] });
 * const client = new FederatedClient({ api: federation, taskId: task.id, dataset });
 * ```
 */
export class InMemoryFederation implements FederationApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  /** Every call, by name (`join`, `heartbeat`, `download`, `submit`, `skip`, `leave`), in order. */
  readonly calls: string[] = [];
  /** While true every call fails as if the server were unreachable (`NETWORK`, status 0). */
  offline = false;
  /** Calls of these kinds fail as if the server were unreachable, this many more times each. */
  readonly failNext: Record<string, number> = {};
  private readonly participants = new Map<string, Participant>();
  private readonly federations = new Map<string, TaskFederation>();
  private readonly taskOf: (taskId: string) => Task | undefined;
  private readonly initial: Record<string, FlatWeights>;
  private readonly maxExtensions: number;
  private joined = 0;
  /** The steps of secure rounds (tasks with privacy.secureAggregation), with the server's checks and rule. */
  private readonly secureSteps = new InMemorySecureSteps({
    caller: (token, call) => {
      this.online(call);
      const participant = this.participant(token);
      const task = this.task(participant.taskId);
      this.requireUnfinished(task, this.federation(task.id));
      return { id: participant.id, task };
    },
    task: (taskId) => this.task(taskId),
    round: (taskId) => {
      const f = this.federation(taskId);
      return { number: f.round, parameters: f.global.values.length };
    },
    active: (taskId) => this.active(taskId).map((p) => p.id),
    countSubmission: (taskId, participantId) => {
      const f = this.federation(taskId);
      f.updates.set(participantId, { samples: 0, metrics: {} });
      this.markSent(participantId, f.round);
      this.decide(this.task(taskId), false);
    },
    fail: (taskId, reason) => this.failRound(this.task(taskId), this.federation(taskId), reason),
    close: (taskId, delta, samples) => this.aggregate(this.task(taskId), this.federation(taskId), { delta, samples }),
    announce: (taskId) => this.announce(taskId),
    stats: this.stats,
  });
  /** The steps of a secure round (see `in-memory-secure.ts`). */
  readonly secure: SecureRoundApi = this.secureSteps.api();

  constructor(options: InMemoryFederationOptions) {
    const { tasks } = options;
    this.taskOf = typeof tasks === 'function' ? tasks : (taskId) => tasks.find((t) => t.id === taskId);
    this.initial = { ...options.initial };
    this.maxExtensions = options.maxExtensions ?? 0;
  }

  /** Sets version 0 of a task's global model, before anyone downloads it. */
  seed(taskId: string, weights: FlatWeights): void {
    if (this.federations.has(taskId)) throw new Error(`task "${taskId}" already has a model: seed it before its first use`);
    this.initial[taskId] = weights;
  }

  /** The latest global model version of a task. */
  version(taskId: string): number {
    return this.federation(taskId).versions.length - 1;
  }

  /** Participants of a task active now (joined, not left). */
  activeCount(taskId: string): number {
    return this.active(taskId).length;
  }

  /** The round state participants of a task see now. */
  state(taskId: string): RoundState {
    const f = this.federation(taskId);
    const last = [...f.history].reverse().find((r) => r.phase === 'closed');
    const privacy = privacyState(this.task(taskId), f.accountant);
    if (f.buffer)
      return {
        taskId,
        round: f.versions.length,
        phase: f.finished ? 'closed' : 'open',
        modelVersion: f.versions.length - 1,
        participants: this.active(taskId).length,
        submitted: f.finished ? (last?.submitted ?? 0) : f.contributions.length,
        deadline: null,
        ...(last && { metrics: { ...last.metrics, samples: last.samples } }),
        ...(privacy && { privacy }),
        mode: 'async',
        bufferSize: asyncSettings(this.task(taskId)).bufferSize,
      };
    return {
      taskId,
      // Once the budget is spent, the last closed round stays the current one (no other opens).
      round: f.finished ? f.round - 1 : f.round,
      phase: f.finished ? 'closed' : this.secureSteps.phase(taskId),
      modelVersion: f.versions.length - 1,
      participants: this.active(taskId).length,
      submitted: f.finished ? (last?.submitted ?? 0) : f.updates.size,
      deadline: null,
      ...(last && { metrics: { ...last.metrics, samples: last.samples } }),
      ...(privacy && { privacy }),
    };
  }

  /** A task's rounds, newest first, as `rounds.list` returns them (the open one included). */
  roundsOf(taskId: string): RoundInfo[] {
    const f = this.federations.get(taskId);
    if (!f) return [];
    const open: RoundInfo[] = f.finished ? [] : [{ ...this.record(f, 'open'), closedAt: null, durationMs: null }];
    return [...open, ...f.history].sort((a, b) => b.number - a.number);
  }

  async join(taskId: string, options?: { token?: string }): Promise<JoinResult> {
    this.online('join');
    const task = this.task(taskId);
    if (task.scheme === 'local') throw new DiscoApiError('SCHEME_MISMATCH', `task "${taskId}" is a local task: it trains on each device alone and has nothing to join`);
    let token = options?.token;
    if (token !== undefined) {
      const known = this.participants.get(token);
      if (!known) throw new DiscoApiError('UNAUTHORIZED', 'unknown participant token: join without a token to get a new one');
      if (known.taskId !== taskId) throw new DiscoApiError('FORBIDDEN', `this participant token belongs to another task, not to "${taskId}"`);
      known.left = false;
    } else {
      token = `token-${++this.joined}-${Math.random().toString(36).slice(2)}`;
      const f = this.federations.get(taskId);
      const firstRound = !f ? 1 : f.updates.size === 0 ? f.round : f.round + 1;
      this.participants.set(token, { id: `participant-${String(this.joined).padStart(3, '0')}`, taskId, left: false, firstRound, lastRound: null });
    }
    this.announce(taskId);
    return { participantId: this.participants.get(token)!.id, token, task: structuredClone(task), state: this.state(taskId) };
  }

  async heartbeat(token: string): Promise<RoundState> {
    this.online('heartbeat');
    return this.state(this.participant(token).taskId);
  }

  async downloadWeights(taskId: string, version?: number): Promise<Uint8Array> {
    this.online('download');
    this.task(taskId);
    const f = this.federation(taskId);
    const bytes = f.versions[version ?? f.versions.length - 1];
    if (!bytes) throw new DiscoApiError('NOT_FOUND', `task "${taskId}" has no model version ${version}`);
    this.stats.bytesReceived += bytes.byteLength;
    return bytes.slice();
  }

  async submitUpdate(token: string, round: number, update: Uint8Array): Promise<SubmitResult> {
    this.online('submit');
    const participant = this.participant(token);
    const task = this.task(participant.taskId);
    if (task.scheme !== 'federated')
      throw new DiscoApiError('SCHEME_MISMATCH', `task "${task.id}" is ${task.scheme}: the server takes no weights for it`);
    const f = this.federation(task.id);
    this.requireUnfinished(task, f);
    if (task.privacy.secureAggregation)
      throw new DiscoApiError(
        'BAD_REQUEST',
        `task "${task.id}" uses secure aggregation (privacy.secureAggregation): the server takes no plain update, only key advertisements, shares and masked inputs (secure.advertiseKeys and the masked route)`,
      );
    if (f.buffer) return this.submitAsync(task, f, participant, round, update);
    if (round !== f.round) {
      const which = round < f.round ? `round ${round} is closed` : `round ${round} has not started`;
      throw new DiscoApiError('WRONG_ROUND', `${which}; the current round is ${f.round} (open)`);
    }
    if (f.updates.has(participant.id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${round}`);
    if (f.skipped.has(participant.id))
      throw new DiscoApiError('WRONG_ROUND', `this participant sat round ${round} out (sampling): it sends no update for it; wait for round ${round + 1}`);
    const checked = checkUpdate(update, { taskId: task.id, shapes: f.global.shapes, round, baseVersion: f.versions.length - 1, maxSamples: task.aggregation.maxSamplesPerUpdate });
    this.stats.bytesSent += update.byteLength;
    f.aggregator.add(checked.delta, checked.samples);
    f.updates.set(participant.id, { samples: checked.samples, metrics: checked.metrics });
    participant.lastRound = f.round;
    this.decide(task, false);
    return { accepted: true, round };
  }

  async skipRound(token: string, round: number): Promise<void> {
    this.online('skip');
    const participant = this.participant(token);
    const task = this.task(participant.taskId);
    const f = this.federation(task.id);
    this.requireUnfinished(task, f);
    if (round !== f.round) {
      const which = round < f.round ? `round ${round} is closed` : `round ${round} has not started`;
      throw new DiscoApiError('WRONG_ROUND', `${which}; the current round is ${f.round} (open)`);
    }
    if ((task.privacy.samplingRate ?? 1) >= 1)
      throw new DiscoApiError('BAD_REQUEST', `task "${task.id}" has no sampling rate (privacy.samplingRate): every participant takes part in every round`);
    if (f.updates.has(participant.id))
      throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${round}: it cannot sit it out`);
    f.skipped.add(participant.id);
    participant.lastRound = f.round;
    this.decide(task, false);
  }

  /** The round's deadline passes: it closes with the updates received if they are enough, else it fails. */
  closeRound(taskId: string): void {
    if (this.federation(taskId).finished) return;
    // A secure round past `open`: the deadline of its current step passes.
    if (this.secureSteps.phase(taskId) !== 'open') {
      this.secureSteps.decide(taskId, true);
      return this.announce(taskId);
    }
    this.decide(this.task(taskId), true);
  }

  async leave(token: string): Promise<void> {
    this.online('leave');
    const participant = this.participant(token);
    participant.left = true;
    if (this.federation(participant.taskId).finished) return this.announce(participant.taskId);
    if (this.secureSteps.phase(participant.taskId) !== 'open') {
      this.secureSteps.decide(participant.taskId, false);
      return this.announce(participant.taskId);
    }
    this.decide(this.task(participant.taskId), false);
  }

  watchRounds(taskId: string, _token: string, listener: (state: RoundState) => void): () => void {
    const watchers = this.federation(taskId).watchers;
    watchers.add(listener);
    return () => watchers.delete(listener);
  }

  close(): void {
    for (const f of this.federations.values()) f.watchers.clear();
  }

  /** An asynchronous task's update: core's admission (staleness, duplicates), the server's checks, the buffer. */
  private submitAsync(task: Task, f: TaskFederation, participant: Participant, round: number, update: Uint8Array): SubmitResult {
    const buffer = f.buffer as BufferAggregator;
    const admission = admitAsyncUpdate({ taskId: task.id, round, latestVersion: f.versions.length - 1, settings: asyncSettings(task) });
    if (!admission.ok) throw new DiscoApiError(admission.code, admission.message);
    // The payload's checksum tells a retried submission from a new update (a malformed header: checkUpdate says so).
    let checksum = NaN;
    try {
      checksum = readWeightsHeader(update).header.checksum;
    } catch {
      // checkUpdate refuses it below (MALFORMED_WEIGHTS)
    }
    const duplicate = duplicateInBuffer(task, f.contributions, { participantId: participant.id, baseVersion: admission.baseVersion, checksum }, admission.version);
    if (duplicate) throw new DiscoApiError('DUPLICATE_UPDATE', duplicate);
    const checked = checkUpdate(update, {
      taskId: task.id,
      shapes: f.global.shapes,
      round,
      baseVersion: admission.baseVersion,
      maxSamples: task.aggregation.maxSamplesPerUpdate,
    });
    this.stats.bytesSent += update.byteLength;
    buffer.add(checked.delta, checked.samples, admission.weight);
    const { staleness, weight, version } = admission;
    f.contributions.push({ participantId: participant.id, staleness, weight, samples: checked.samples, metrics: checked.metrics, baseVersion: admission.baseVersion, checksum });
    participant.lastRound = version;
    this.decide(task, false);
    return { accepted: true, round: version, staleness };
  }

  /** An asynchronous task: publishes the buffer as a version when core's rule says so (K updates, or everyone in it). */
  private decideVersion(task: Task, f: TaskFederation): void {
    const inBuffer = new Set(f.contributions.map((c) => c.participantId));
    const decision = decideVersion({
      buffered: f.contributions.length,
      bufferSize: asyncSettings(task).bufferSize,
      pending: this.active(task.id).filter((p) => !inBuffer.has(p.id)).length,
      minParticipants: task.minParticipants,
      repeats: allowsRepeatUpdates(task),
    });
    if (decision.action === 'aggregate') this.aggregate(task, f);
    this.announce(task.id);
  }

  /** Applies the server's round rule now; `deadlinePassed` as if the round's clock had run out. */
  private decide(task: Task, deadlinePassed: boolean): void {
    const f = this.federation(task.id);
    if (f.buffer) return this.decideVersion(task, f);
    const active = this.active(task.id);
    const now = Date.now();
    const decision = decideRound({
      submitted: f.updates.size,
      // The server's rule: one that missed maxMissedRounds rounds in a row is not waited for (core's isWaitedFor).
      pending: active.filter(
        (p) => !f.updates.has(p.id) && !f.skipped.has(p.id) && isWaitedFor({ round: f.round, ...p }, task.maxMissedRounds ?? DEFAULT_MAX_MISSED_ROUNDS),
      ).length,
      skipped: f.skipped.size,
      active: active.length,
      minParticipants: task.minParticipants,
      deadlineAt: deadlinePassed ? now : now + 1,
      now,
      extensions: f.extensions,
      maxExtensions: this.maxExtensions,
      roundDeadlineMs: task.roundDeadlineSeconds * 1000,
    });
    if (decision.action === 'aggregate' && task.privacy.secureAggregation) this.secureSteps.startSharing(task.id);
    else if (decision.action === 'aggregate') this.aggregate(task, f);
    else if (decision.action === 'fail') this.failRound(task, f, decision.reason);
    else if (decision.action === 'extend') f.extensions = decision.extensions;
    this.announce(task.id);
  }

  /** Closes the round with the strategy's aggregate, or with a secure round's unmasked mean and Σw. */
  private aggregate(task: Task, f: TaskFederation, secure?: { delta: Float32Array; samples: number }): void {
    const delta = secure?.delta ?? (f.buffer ?? f.aggregator).result();
    // The task's server optimizer (FedOpt) turns the aggregate into the step, as the server's storeAggregate does.
    const optimizer = task.aggregation.serverOptimizer;
    const optimized = optimizer ? applyServerOptimizer(optimizer, delta, f.optimizerState) : { step: delta, state: f.optimizerState };
    const global = { values: add(f.global.values, optimized.step), shapes: f.global.shapes };
    // The server's check before a version is stored: same reason, same outcome (the previous version stays).
    const problem = aggregateProblem(global.values);
    if (problem) return this.failRound(task, f, problem);
    f.global = global;
    f.optimizerState = optimized.state;
    f.versions.push(encodeWeights(global, { taskId: task.id, modelVersion: f.versions.length }));
    // Differential privacy: one accountant step per closed round, as the server stores it with the round.
    const account = accountRound(task, f.accountant);
    if (account) f.accountant = account.accountant;
    // The version just pushed is the one produced; the round trained from the one before it.
    f.history.push({ ...this.record(f, 'closed'), baseVersion: f.versions.length - 2, ...(f.buffer && { number: f.versions.length - 1 }), modelVersion: f.versions.length - 1, ...(secure && { samples: secure.samples, metrics: null }), ...(account && { epsilon: account.epsilon, delta: account.delta }) });
    this.nextRound(task, f);
    // The budget rule: no round opens that would take ε above the budget.
    if (account && privacyState(task, account.accountant)?.exhausted) f.finished = true;
  }

  /** Refuses calls for a round once the task's privacy budget is spent, as the server does. */
  private requireUnfinished(task: Task, f: TaskFederation): void {
    const privacy = f.finished ? privacyState(task, f.accountant) : undefined;
    if (privacy) throw new DiscoApiError('ROUND_NOT_OPEN', budgetExhaustedMessage(task, privacy));
  }

  private failRound(task: Task, f: TaskFederation, reason: string): void {
    f.history.push({ ...this.record(f, 'failed'), failureReason: reason });
    this.nextRound(task, f);
  }

  private nextRound(task: Task, f: TaskFederation): void {
    this.secureSteps.reset(task.id);
    // Asynchronous tasks number their buffers by the version they build (a failed one is built again).
    f.round = f.buffer ? f.versions.length : f.round + 1;
    f.buffer &&= createBufferAggregator(task, f.global.values.length);
    f.contributions = [];
    f.openedAt = Date.now();
    f.extensions = 0;
    f.updates = new Map();
    f.skipped = new Set();
    f.aggregator = createRoundAggregator(task, f.global.values.length);
  }

  /** The open round as a history record (`phase` closed or failed once it ends). */
  private record(f: TaskFederation, phase: RoundInfo['phase']): RoundInfo {
    const updates = f.buffer ? f.contributions : [...f.updates.values()];
    const now = Date.now();
    const samples = updates.reduce((sum, u) => sum + u.samples, 0);
    return {
      number: f.round,
      phase,
      baseVersion: f.versions.length - 1,
      modelVersion: null,
      participants: updates.length,
      submitted: updates.length,
      samples,
      metrics: phase === 'closed' ? weightedMetrics(updates) : null,
      strategy: f.strategy,
      openedAt: f.openedAt,
      deadline: null,
      closedAt: now,
      durationMs: now - f.openedAt,
      extensions: f.extensions,
      failureReason: null,
      epsilon: null,
      delta: null,
      clipped: (f.buffer ?? f.aggregator).clipped,
      ...(f.buffer && { participants: new Set(f.contributions.map((c) => c.participantId)).size, contributions: f.contributions.map(({ participantId, staleness, weight, samples }) => ({ participantId, staleness, weight, samples })) }),
    };
  }

  private federation(taskId: string): TaskFederation {
    let f = this.federations.get(taskId);
    if (f) return f;
    const task = this.task(taskId);
    const global = this.initial[taskId] ?? initialWeights(task);
    f = {
      versions: [encodeWeights(global, { taskId, modelVersion: 0 })],
      global: decodeWeights(encodeWeights(global, { taskId, modelVersion: 0 })).weights,
      round: 1,
      openedAt: Date.now(),
      extensions: 0,
      strategy: task.aggregation.strategy,
      aggregator: createRoundAggregator(task, global.values.length),
      updates: new Map(),
      skipped: new Set(),
      accountant: null,
      optimizerState: {},
      finished: false,
      history: [],
      watchers: new Set(),
      buffer: isAsync(task) && task.scheme === 'federated' ? createBufferAggregator(task, global.values.length) : null,
      contributions: [],
    };
    this.federations.set(taskId, f);
    return f;
  }

  /** A participant sent something for `round` (an update, or a secure round's key advertisement). */
  private markSent(participantId: string, round: number): void {
    for (const p of this.participants.values()) if (p.id === participantId) p.lastRound = round;
  }

  private active(taskId: string): Participant[] {
    return [...this.participants.values()].filter((p) => p.taskId === taskId && !p.left);
  }

  private announce(taskId: string): void {
    const state = this.state(taskId);
    for (const watcher of this.federation(taskId).watchers) queueMicrotask(() => watcher(state));
  }

  private online(call: string): void {
    this.calls.push(call);
    const failing = (this.failNext[call] ?? 0) > 0;
    if (failing) this.failNext[call] -= 1;
    if (this.offline || failing) throw new DiscoApiError('NETWORK', 'Cannot reach the Disco server (fetch failed).');
  }

  private participant(token: string): Participant {
    const participant = this.participants.get(token);
    if (!participant) throw new DiscoApiError('UNAUTHORIZED', 'unknown participant token: join the task again');
    if (participant.left) throw new DiscoApiError('UNAUTHORIZED', 'this participant has left the task: join it again');
    return participant;
  }

  private task(taskId: string): Task {
    const task = this.taskOf(taskId);
    if (!task) throw new DiscoApiError('NOT_FOUND', `task "${taskId}" does not exist`);
    return task;
  }
}

/** Version 0 of a built-in task's model, as every participant (and the server) builds it from the task's seed. */
function initialWeights(task: Task): FlatWeights {
  if (task.model.source !== 'builtin') throw new DiscoApiError('NOT_FOUND', `task "${task.id}" has no initial model: seed() one`);
  const model = buildModel(task);
  try {
    return getFlatWeights(model);
  } finally {
    model.dispose();
  }
}
