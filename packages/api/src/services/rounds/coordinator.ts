import {
  accountRound,
  aggregateProblem,
  applyServerOptimizer,
  budgetExhaustedMessage,
  bufferedUpdateLimit,
  createRoundAggregator,
  createStrategy,
  decideRound,
  decodeServerOptimizerState,
  DEFAULT_MAX_MISSED_ROUNDS,
  encodeServerOptimizerState,
  isAsync,
  isWaitedFor,
  privacyState,
  weightedMetrics,
  DiscoApiError,
  type ClientMetrics,
  type PrivacySpentState,
  type RoundAggregator,
  type RoundState,
  type Task,
} from '@disco/core';
import type { Worker } from 'node:worker_threads';
import { durableTransaction, type Db } from '../../db/client.js';
import type { RoundPhaseName } from '../../db/schema.js';
import type { RoundEvents } from '../events.js';
import { getVersionWeights, latestVersion, storeVersion } from '../models.js';
import { loadTask, type StoredTask } from '../tasks.js';
import { aggregateInWorker } from './aggregation-thread.js';
import { AsyncRounds } from './async-rounds.js';
import * as q from './queries.js';
import type { RoundRow } from './queries.js';
import { interruptedSecureRounds, restartReason, secureRoundRows, SecureRounds } from './secure-rounds.js';

/**
 * Rounds of federated training: a small state machine, one row per round.
 *
 * ```
 *   open ──(enough updates, and every expected participant or the deadline)──▶ aggregating ──▶ closed
 *     │                                                                            │
 *     └──(deadline, too few updates, extensions used up)──▶ failed ◀──(error)──────┘
 * ```
 * Round r trains from `baseVersion` (the latest global model when it opened) and, once closed, produced
 * `baseVersion + 1`; without failures round r trains from version r − 1 and produces version r. A failed
 * round is followed by a new one from the same version. Later phases (key exchange, masked submission,
 * unmasking of drop-outs for secure aggregation) slot in before `aggregating` through {@link transitions}.
 *
 * **State.** Everything lives in the database except the streaming accumulator of each open round, which
 * sums the updates as they arrive (O(model) memory) and is kept in this process only. A restart therefore
 * loses the updates of the round in progress (never a closed round): on start-up, an open round that had
 * received updates is marked failed and the next one opens from the same version; an open round with no
 * update carries on. With several instances, the updates of one task must reach the instance that holds its
 * accumulator (sticky routing by task id), or the partial sums move to a shared store.
 *
 * **Joining mid-training.** A participant that joins while the open round has received no update yet is
 * waited for in that round; one that joins later is waited for from the next round on (an update it sends
 * for the current round is still accepted if it arrives before the round closes).
 *
 * **Files.** The SQL is in `queries.ts`. When an open round closes, extends or fails is decided by core's
 * pure `decideRound` (`@disco/core`, `aggregation/round-policy.ts`), which the in-memory federation applies
 * too; this coordinator reads its inputs, applies its decisions (timers, transitions, aggregation) and
 * announces them.
 */
export interface RoundTimings {
  /** How often clients should send a heartbeat (a hint returned on join). */
  heartbeatIntervalMs: number;
  /** A participant without a heartbeat for this long is no longer active (dropped from the round). */
  heartbeatTimeoutMs: number;
  /** How often deadlines and dropped participants are checked. */
  tickMs: number;
  /** Deadline extensions granted to a round below the task's minimum before it is marked failed. */
  maxExtensions: number;
  /** Overrides every task's `roundDeadlineSeconds` (tests, simulations). */
  roundDeadlineMs?: number;
  /** How long each step of a secure round (sharing, masking, unmasking) may take, at most the round deadline; default 30 s. */
  secureStepMs?: number;
  /**
   * Buffered updates (bytes, 4 a value) from which a non-streaming strategy aggregates in a worker thread
   * rather than on the event loop; default {@link DEFAULT_OFF_THREAD_BYTES}. 0: always in a worker.
   */
  offThreadBytes?: number;
}

/** Below 4 MiB of buffered updates a robust rule takes milliseconds: a worker thread would cost more than it saves. */
export const DEFAULT_OFF_THREAD_BYTES = 4 * 1024 ** 2;

export const defaultTimings: RoundTimings = {
  heartbeatIntervalMs: 5_000,
  heartbeatTimeoutMs: 15_000,
  tickMs: 1_000,
  maxExtensions: 2,
};

/** Default memory bound on the updates a non-streaming strategy buffers for one round of one task: 1 GiB. */
export const DEFAULT_MAX_BUFFERED_UPDATE_BYTES = 1024 ** 3;

/** `bytes` in the largest binary unit that divides it (`1 GiB`, `3 MiB`), in bytes otherwise. */
function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const)
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  return `${bytes} bytes`;
}

/** The allowed phase transitions; new phases (e.g. `keys`, `unmasking`) are added here. */
export const transitions: Record<RoundPhaseName, readonly RoundPhaseName[]> = {
  open: ['aggregating', 'sharing', 'failed'],
  // Secure rounds (decision 0010): the steps between the key advertisements and the unmasked sum.
  sharing: ['masking', 'failed'],
  masking: ['unmasking', 'failed'],
  unmasking: ['aggregating', 'failed'],
  aggregating: ['closed', 'failed'],
  closed: [],
  failed: [],
};


export { type RoundRow } from './queries.js';

interface Accumulator {
  roundId: number;
  /** The task's strategy, behind central clipping and noise when the task asks for them (core `createRoundAggregator`). */
  aggregator: RoundAggregator;
}

export class RoundCoordinator {
  /** The only in-memory state: the running aggregate of each open round (lost on restart, by design). */
  private readonly accumulators = new Map<number, Accumulator>();
  /** Last participant count announced per task (to announce drops once); derived, not state. */
  private readonly announcedParticipants = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Aggregations running in a worker thread, by round id (terminated by {@link stop}). */
  private readonly workers = new Map<number, Worker>();
  private stopped = false;
  /** The steps of secure rounds, and their in-memory state (lost on restart, by design). */
  readonly secure: SecureRounds;
  /** Asynchronous (FedBuff) tasks' buffers, all in the database (async-rounds.ts, decision 0013). */
  readonly async: AsyncRounds;

  constructor(
    private readonly db: Db,
    private readonly events: RoundEvents,
    readonly timings: RoundTimings = defaultTimings,
    private readonly clock: () => number = Date.now,
    /** Memory bound on the updates a non-streaming strategy (median, trimmed mean, Krum) buffers per task. */
    readonly maxBufferedUpdateBytes: number = DEFAULT_MAX_BUFFERED_UPDATE_BYTES,
  ) {
    this.secure = new SecureRounds({
      db: this.db,
      now: () => this.clock(),
      secureStepMs: (task) => Math.min(this.timings.secureStepMs ?? 30_000, this.deadlineMs(task)),
      transition: (tx, round, to, values) => this.transition(tx, round, to, values),
      fail: (round, reason) => this.fail(round, reason),
      storeAggregate: (aggregating, task, delta, info) => this.storeAggregate(aggregating, task, delta, info),
      failAggregating: (aggregating, task, reason) => this.failTransaction(aggregating, task, reason),
      publish: (taskId) => this.publish(taskId),
      publishClosed: (taskId, number) => this.publishClosed(taskId, number),
      heartbeatSince: (now) => now - this.timings.heartbeatTimeoutMs,
    });
    this.async = new AsyncRounds({
      db: this.db,
      now: () => this.clock(),
      transition: (tx, round, to, values) => this.transition(tx, round, to, values),
      storeAggregate: (aggregating, task, delta, info) => this.storeAggregate(aggregating, task, delta, info),
      failAggregating: (aggregating, task, reason) => this.failTransaction(aggregating, task, reason),
      activeSince: (now) => now - this.timings.heartbeatTimeoutMs,
      offThreadBytes: this.timings.offThreadBytes ?? DEFAULT_OFF_THREAD_BYTES,
      aggregateInWorker: (roundId, task, updates, weights) => {
        const { strategy, parameter, bucketing } = task.aggregation;
        return aggregateInWorker({ settings: { strategy, parameter, bucketing }, updates, weights }, (worker) => this.workers.set(roundId, worker)).finally(() =>
          this.workers.delete(roundId),
        );
      },
      stopped: () => this.stopped,
      privacy: (taskId) => this.privacy(taskId),
      publish: (taskId) => this.publish(taskId),
      publishClosed: (taskId, number) => this.publishClosed(taskId, number),
    });
  }

  /** Recovers rounds interrupted by a restart and starts the deadline scheduler. */
  start(): void {
    this.stopped = false;
    this.recover();
    this.timer = setInterval(() => this.tick(), this.timings.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    // A round aggregating in a worker stays `aggregating` in the database: the next start fails it (recover()).
    this.stopped = true;
    for (const worker of this.workers.values()) void worker.terminate();
    this.workers.clear();
  }

  /** Deadline of a round opened now for this task. */
  private deadlineMs(task: Task): number {
    return this.timings.roundDeadlineMs ?? task.roundDeadlineSeconds * 1000;
  }

  /** Opens round 1 of a new federated task (in the caller's transaction). */
  openFirstRound(tx: Db, task: Task): void {
    if (task.scheme !== 'federated') return;
    this.insertRound(tx, task, 1, 0, this.clock());
  }

  private insertRound(tx: Db, task: Task, number: number, baseVersion: number, now: number): RoundRow {
    const active = this.activeCount(tx, task.id, now);
    return q.insertRound(tx, {
      taskId: task.id,
      number,
      baseVersion,
      openedAt: now,
      // An asynchronous buffer has no deadline (core's version rule closes it, async-rounds.ts).
      deadlineAt: active > 0 && !isAsync(task) ? now + this.deadlineMs(task) : null,
      strategy: task.aggregation.strategy,
    });
  }

  /** The task's latest round (the open one while training goes on), if any. */
  currentRound(taskId: string): RoundRow | undefined {
    return q.currentRound(this.db, taskId);
  }

  /** Participants whose heartbeat is recent and who have not left. */
  activeCount(db: Db, taskId: string, now = this.clock()): number {
    return q.activeParticipantCount(db, taskId, now - this.timings.heartbeatTimeoutMs);
  }

  /**
   * Active participants waited for in `round` that have not submitted yet, without those that missed the
   * task's `maxMissedRounds` rounds in a row (core's `isWaitedFor`, which the in-memory federation applies too).
   */
  private pendingCount(round: RoundRow, task: Task, now: number): number {
    const maxMissed = task.maxMissedRounds ?? DEFAULT_MAX_MISSED_ROUNDS;
    return q.pendingParticipants(this.db, round, now - this.timings.heartbeatTimeoutMs).filter((p) => isWaitedFor({ round: round.number, ...p }, maxMissed)).length;
  }

  /** Active participants waited for in `round` (submitted or not). */
  private expectedCount(round: RoundRow, task: Task, now: number): number {
    return this.pendingCount(round, task, now) + round.submitted;
  }

  /** The state a client sees: current round, latest version, participants, last closed round's metrics. */
  state(taskId: string): RoundState {
    const now = this.clock();
    const round = this.currentRound(taskId);
    const latest = latestVersion(this.db, taskId);
    const lastClosed = q.lastClosedRound(this.db, taskId);
    const state: RoundState = {
      taskId,
      round: round?.number ?? 0,
      phase: (round?.phase ?? 'closed'),
      modelVersion: latest?.version ?? 0,
      participants: this.activeCount(this.db, taskId, now),
      submitted: round?.submitted ?? 0,
      deadline: round && ['open', 'sharing', 'masking', 'unmasking'].includes(round.phase) ? (round.deadlineAt ?? null) : null,
    };
    if (lastClosed) state.metrics = { ...(lastClosed.metrics ?? {}), samples: lastClosed.samples };
    const privacy = this.privacy(taskId);
    if (privacy) state.privacy = privacy;
    const task = loadTask(this.db, taskId).task;
    // The buffer's round is the version it becomes (its row's number runs ahead after a failed buffer).
    if (isAsync(task)) Object.assign(state, { mode: 'async', bufferSize: task.async.bufferSize, round: state.modelVersion + 1 });
    return state;
  }

  /**
   * What a task with noise has spent (the accountant stored with its last closed round), and whether its
   * budget is exhausted; undefined for a task without noise.
   */
  privacy(taskId: string, db: Db = this.db): PrivacySpentState | undefined {
    const task = loadTask(db, taskId).task;
    if (!(task.privacy.noiseMultiplier ?? 0)) return undefined;
    return privacyState(task, q.lastAccountant(db, taskId));
  }

  publish(taskId: string): void {
    // A state is six queries: not worth reading for nobody (a subscriber gets the current state when it subscribes).
    if (!this.events.watched(taskId)) return;
    const state = this.state(taskId);
    this.announcedParticipants.set(taskId, state.participants);
    this.events.publish(state);
  }

  /** The round a participant joining now is first waited for in (see the file's comment). */
  firstRoundForJoiner(taskId: string): number {
    const round = this.currentRound(taskId);
    if (!round) return 1;
    return round.phase === 'open' && round.submitted === 0 ? round.number : round.number + 1;
  }

  /** A participant joined, came back or left: start a waiting round's clock, re-check closing, announce. */
  participantsChanged(taskId: string): void {
    const round = this.currentRound(taskId);
    if (round?.phase === 'open') this.evaluate(round);
    else if (round) this.secure.evaluate(round);
    this.publish(taskId);
  }

  /**
   * The most participants a federated task can hold: unbounded for a streaming strategy (FedAvg), else as
   * many updates of the task's model as fit in {@link maxBufferedUpdateBytes} (core's `bufferedUpdateLimit`).
   */
  participantLimit(stored: Pick<StoredTask, 'task' | 'parameterCount'>): number {
    // An asynchronous task keeps K updates of its model whoever sends them: no bound on who takes part.
    if (stored.task.scheme !== 'federated' || isAsync(stored.task)) return Infinity;
    return bufferedUpdateLimit(createStrategy(stored.task.aggregation), stored.parameterCount, this.maxBufferedUpdateBytes);
  }

  /** Refuses a new participant beyond {@link participantLimit} (CONFLICT, naming the bound). */
  admitParticipant(stored: Pick<StoredTask, 'task' | 'parameterCount'>): void {
    const limit = this.participantLimit(stored);
    if (this.activeCount(this.db, stored.task.id) >= limit) throw this.fullError(stored, limit);
  }

  private fullError(stored: Pick<StoredTask, 'task' | 'parameterCount'>, limit: number): DiscoApiError {
    const { task, parameterCount } = stored;
    return new DiscoApiError(
      'CONFLICT',
      `task "${task.id}" is full: its aggregation strategy "${task.aggregation.strategy}" keeps every update in memory, ` +
        `and this server buffers at most ${formatBytes(this.maxBufferedUpdateBytes)} of updates per task ` +
        `(4 bytes × ${parameterCount} parameters each), so at most ${limit} participants`,
    );
  }

  /** Checks that `round` of the task is the open one, with a message naming the current round otherwise. */
  requireOpenRound(taskId: string, roundNumber: number): RoundRow {
    const round = this.currentRound(taskId);
    if (!round) throw new DiscoApiError('WRONG_ROUND', `task "${taskId}" has no round (it is not a federated task)`);
    if (round.number !== roundNumber) {
      const privacy = round.phase === 'closed' ? this.privacy(taskId) : undefined;
      if (privacy?.exhausted) throw new DiscoApiError('ROUND_NOT_OPEN', budgetExhaustedMessage({ id: taskId }, privacy));
      const which = roundNumber < round.number ? `round ${roundNumber} is closed` : `round ${roundNumber} has not started`;
      throw new DiscoApiError('WRONG_ROUND', `${which}; the current round is ${round.number} (${round.phase})`);
    }
    if (round.phase !== 'open') throw new DiscoApiError('ROUND_NOT_OPEN', `round ${round.number} is ${round.phase} and takes no more updates`);
    return round;
  }

  hasSubmitted(roundId: number, participantId: string): boolean {
    return q.hasSubmitted(this.db, roundId, participantId);
  }

  /**
   * Records a checked update (`delta` against the round's base version) and adds it to the round's
   * accumulator; closes the round when that was the last one expected. Synchronous from the checks to the
   * accumulator, so that no other update or close interleaves.
   */
  submit(round: RoundRow, participantId: string, delta: Float32Array, samples: number, metrics: ClientMetrics, bytes: number): RoundRow {
    const stored = loadTask(this.db, round.taskId);
    const task = stored.task;
    let accumulator = this.accumulators.get(round.id);
    // A participant that dropped out and came back may exceed the join-time bound: the bound holds anyway.
    if ((accumulator?.aggregator.count ?? 0) >= this.participantLimit(stored)) throw this.fullError(stored, this.participantLimit(stored));
    if (q.hasSkipped(this.db, round.id, participantId))
      throw new DiscoApiError('WRONG_ROUND', `this participant sat round ${round.number} out (sampling): it sends no update for it; wait for round ${round.number + 1}`);
    if (!accumulator) {
      accumulator = { roundId: round.id, aggregator: createRoundAggregator(task, delta.length) };
      this.accumulators.set(round.id, accumulator);
    }
    let updated = q.recordUpdate(this.db, { roundId: round.id, participantId, samples, metrics, bytes, receivedAt: this.clock() });
    // After the rows are written: adding to the accumulator cannot fail (sizes were checked).
    const clippedBefore = accumulator.aggregator.clipped;
    accumulator.aggregator.add(delta, samples);
    if (accumulator.aggregator.clipped > clippedBefore) updated = q.countClipped(this.db, round.id);
    this.evaluate(updated);
    // Announced here while the round still collects updates; the update that completes it is announced by the
    // round's close (one state fewer per round for every subscriber).
    if (this.accumulators.has(round.id)) this.publish(round.taskId);
    return updated;
  }

  /**
   * A participant sits `round` out (tasks with a sampling rate: its coin came up tails): the round stops
   * waiting for it. Refused after an update, and for a task without sampling.
   */
  skip(round: RoundRow, participantId: string): void {
    const task = loadTask(this.db, round.taskId).task;
    if ((task.privacy.samplingRate ?? 1) >= 1)
      throw new DiscoApiError('BAD_REQUEST', `task "${task.id}" has no sampling rate (privacy.samplingRate): every participant takes part in every round`);
    if (q.hasSubmitted(this.db, round.id, participantId))
      throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${round.number}: it cannot sit it out`);
    q.recordSkip(this.db, round.id, participantId, this.clock());
    this.evaluate(q.roundByNumber(this.db, round.taskId, round.number) as RoundRow);
    this.publish(round.taskId);
  }

  /** Runs every deadline and drop check (the scheduler calls it every `tickMs`). */
  tick(): void {
    try {
      for (const round of q.openRounds(this.db)) {
        this.evaluate(round);
        const count = this.activeCount(this.db, round.taskId);
        if (this.announcedParticipants.get(round.taskId) !== count) this.publish(round.taskId);
      }
      // The steps of secure rounds: their deadlines, and members that vanished.
      for (const round of secureRoundRows(this.db, this.secure.roundIds())) this.secure.evaluate(round);
    } catch (error) {
      // A scheduler error must never take the server down; the next tick tries again.
      console.error('disco: round scheduler error', error);
    }
  }

  /** Applies the round policy (`decideRound`) to an open round: wait, start its clock, close, extend, idle or fail. */
  evaluate(round: RoundRow): void {
    if (round.phase !== 'open') return;
    const now = this.clock();
    const task = loadTask(this.db, round.taskId).task;
    // An asynchronous buffer has no deadline: core's version rule instead (async-rounds.ts).
    if (isAsync(task)) return this.async.evaluate(round, task);
    const decision = decideRound({
      submitted: round.submitted,
      pending: this.pendingCount(round, task, now),
      skipped: q.skipCount(this.db, round.id),
      active: this.activeCount(this.db, round.taskId, now),
      minParticipants: task.minParticipants,
      deadlineAt: round.deadlineAt,
      now,
      extensions: round.extensions,
      maxExtensions: this.timings.maxExtensions,
      roundDeadlineMs: this.deadlineMs(task),
    });
    switch (decision.action) {
      case 'wait':
        return;
      case 'start':
        q.setRoundDeadline(this.db, round.id, decision.deadlineAt, round.extensions);
        return;
      case 'aggregate':
        // A secure round's key advertisements are in: its masked steps follow (secure-rounds.ts).
        return task.privacy.secureAggregation ? this.secure.startSharing(round, task) : this.aggregate(round, task);
      case 'idle':
        q.setRoundDeadline(this.db, round.id, null, 0);
        return this.publish(round.taskId);
      case 'extend':
        q.setRoundDeadline(this.db, round.id, decision.deadlineAt, decision.extensions);
        return this.publish(round.taskId);
      case 'fail':
        return this.fail(round, decision.reason);
    }
  }

  private transition(tx: Db, round: RoundRow, to: RoundPhaseName, values: Partial<RoundRow> = {}): RoundRow {
    if (!transitions[round.phase].includes(to)) throw new Error(`round ${round.number} cannot go from ${round.phase} to ${to}`);
    const next = q.updateRoundPhase(tx, round, to, values);
    if (!next) throw new Error(`round ${round.number} changed phase concurrently`);
    return next;
  }

  /**
   * open → aggregating → closed: new global = base + aggregate of the deltas; opens the next round. A
   * non-streaming strategy's result (median, Krum, …: seconds of CPU at 50 × 1M) runs in a worker thread once
   * its updates exceed `offThreadBytes`: the round stays `aggregating`, the request that sent the last update
   * returns at once and the server keeps answering while the worker computes; the round closes (or fails, with
   * the worker's error) when it returns.
   */
  private aggregate(round: RoundRow, task: Task): void {
    const accumulator = this.accumulators.get(round.id);
    if (!accumulator || accumulator.aggregator.count === 0) {
      return this.fail(round, 'the updates of this round were lost (server restart)');
    }
    const aggregating = this.transition(this.db, round, 'aggregating');
    this.accumulators.delete(round.id);
    const metrics = this.roundMetrics(round.id);
    const buffered = accumulator.aggregator.buffered;
    if (buffered && buffered.count * buffered.size * 4 >= (this.timings.offThreadBytes ?? DEFAULT_OFF_THREAD_BYTES)) {
      // Seconds in a worker: announce the phase. On this thread the round closes within this call, and the close is announced.
      this.publish(task.id);
      // The updates move to the worker (transferred): this thread keeps none of them meanwhile.
      const { updates, weights } = buffered.take();
      const { strategy, parameter, bucketing } = task.aggregation;
      aggregateInWorker({ settings: { strategy, parameter, bucketing }, updates, weights }, (worker) => this.workers.set(round.id, worker)).then(
        (delta) => this.finishAggregation(aggregating, task, () => delta, metrics),
        (error: Error) =>
          this.finishAggregation(aggregating, task, () => {
            throw error;
          }, metrics),
      );
      return;
    }
    this.finishAggregation(aggregating, task, () => accumulator.aggregator.result(), metrics);
  }

  /** Stores the aggregate `compute` returns, or fails the round with the reason it throws (or that storeAggregate gives). */
  private finishAggregation(aggregating: RoundRow, task: Task, compute: () => Float32Array, metrics: ClientMetrics): void {
    this.workers.delete(aggregating.id);
    if (this.stopped) return;
    try {
      // After a worker, the task may have been deleted meanwhile: then there is nothing to close.
      if (q.roundByNumber(this.db, task.id, aggregating.number)?.phase !== 'aggregating') return;
      let problem: string | undefined;
      try {
        problem = this.storeAggregate(aggregating, task, compute(), { metrics });
      } catch (error) {
        console.error(`disco: aggregation of round ${aggregating.number} of ${task.id} failed`, error);
        problem = `aggregation failed: ${(error as Error).message}`;
      }
      if (problem) this.failTransaction(aggregating, task, problem);
      else this.publishClosed(task.id, aggregating.number);
    } catch (error) {
      console.error(`disco: closing round ${aggregating.number} of ${task.id} failed`, error);
    }
  }

  /**
   * The one way an aggregating round closes, whatever computed its delta (a strategy's accumulator, or the sum a
   * secure round unmasked): new global = base + delta, checked, then stored with the round closed and the next
   * one opened in one transaction. Returns why the round must fail instead (nothing stored), or undefined.
   * `samples` overrides the round's count (secure rounds learn Σw only from the sum).
   */
  private storeAggregate(
    aggregating: RoundRow,
    task: Task,
    delta: Float32Array,
    info: { metrics: ClientMetrics | null; samples?: number; within?: (tx: Db) => void },
  ): string | undefined {
    const now = this.clock();
    const base = getVersionWeights(this.db, task.id, aggregating.baseVersion);
    // The task's server optimizer (FedOpt) turns the aggregate into the step, from the state stored with the
    // last closed round (so that it survives restarts). It acts on what the round released: the unmasked sum of
    // a secure round, the noisy mean of a DP round (post-processing).
    const optimizer = task.aggregation.serverOptimizer;
    let optimized: { step: Float32Array; state: Buffer } | undefined;
    if (optimizer) {
      const stored = q.lastOptimizerState(this.db, task.id);
      const result = applyServerOptimizer(optimizer, delta, stored ? decodeServerOptimizerState(stored) : {});
      optimized = { step: result.step, state: Buffer.from(encodeServerOptimizerState(result.state)) };
    }
    const step = optimized?.step ?? delta;
    const values = new Float32Array(base.values.length);
    for (let i = 0; i < values.length; i++) values[i] = base.values[i] + step[i];
    // Checked before it is stored (core's `aggregateProblem`, which the in-memory federation runs too): a
    // non-finite model would be served to everyone and fail every later round. The round fails with the
    // reason instead; the next one opens from the same base version.
    const problem = aggregateProblem(values);
    if (problem) return problem;
    const participantsCount = this.expectedCount(aggregating, task, now);
    // Synced: a closed round and its version survive a power loss too (decision 0014).
    durableTransaction(this.db, (tx) => {
      const version = (latestVersion(tx, task.id)?.version ?? -1) + 1;
      // One optimizer state is kept per task: the new round's.
      if (optimized) q.clearOptimizerStates(tx, task.id);
      storeVersion(tx, task.id, version, { values, shapes: base.shapes }, aggregating.number, now);
      const closing: Partial<RoundRow> = { closedAt: now, modelVersion: version, metrics: info.metrics, participants: participantsCount, deadlineAt: null };
      if (info.samples !== undefined) closing.samples = info.samples;
      if (optimized) closing.optimizerState = optimized.state;
      // Differential privacy: this round is one step of the task's accountant, stored with the version.
      const account = accountRound(task, q.lastAccountant(tx, task.id));
      if (account) Object.assign(closing, account);
      this.transition(tx, aggregating, 'closed', closing);
      // The budget rule: no round opens that would take ε above the task's budget; the task is finished.
      if (!(account && privacyState(task, account.accountant)?.exhausted)) this.insertRound(tx, task, aggregating.number + 1, version, now);
      // Asynchronous versions: their buffer's bytes are cleared with the version stored (async-rounds.ts).
      info.within?.(tx);
    });
    return undefined;
  }

  /** Announces the closed (or failed) round itself, then the newly opened one. */
  private publishClosed(taskId: string, number: number): void {
    const closed = this.state(taskId);
    const row = q.roundByNumber(this.db, taskId, number);
    if (row) this.events.publish({ ...closed, round: row.number, phase: row.phase, submitted: row.submitted, deadline: null });
    // Nothing changed in between (synchronous): the state just read is the one to announce.
    this.announcedParticipants.set(taskId, closed.participants);
    this.events.publish(closed);
  }

  /** open/aggregating → failed; the next round opens from the same version. */
  fail(round: RoundRow, reason: string): void {
    const task = loadTask(this.db, round.taskId).task;
    this.accumulators.delete(round.id);
    this.secure.forget(round.id);
    this.failTransaction(round, task, reason);
  }

  private failTransaction(round: RoundRow, task: Task, reason: string): void {
    const now = this.clock();
    const participantsCount = this.expectedCount(round, task, now);
    this.db.transaction((tx) => {
      this.transition(tx, round, 'failed', { closedAt: now, failureReason: reason, participants: participantsCount, metrics: this.roundMetrics(round.id), deadlineAt: null });
      this.insertRound(tx, task, round.number + 1, round.baseVersion, now);
    });
    this.publishClosed(task.id, round.number);
  }

  /** Sample-weighted mean of the metrics the clients sent with their updates (core's `weightedMetrics`). */
  private roundMetrics(roundId: number): ClientMetrics {
    return weightedMetrics(q.updateMetrics(this.db, roundId));
  }

  /** Rounds interrupted by a restart: the ones whose updates were lost fail, the next ones open. */
  recover(): void {
    // A secure round never resumes from partial state: it is abandoned, and the next one starts with fresh keys.
    for (const round of interruptedSecureRounds(this.db)) if (!this.secure.has(round.id)) this.fail(round, restartReason(round.number));
    const unfinished = q.unfinishedRounds(this.db);
    // Asynchronous buffers are rows: they carry on (or aggregate again), nothing is lost.
    const resumed = this.async.recover(unfinished);
    for (const round of unfinished) {
      if (resumed.has(round.id)) continue;
      if (this.accumulators.has(round.id) || this.secure.has(round.id) || this.workers.has(round.id)) continue;
      if (round.submitted > 0 && loadTask(this.db, round.taskId).task.privacy.secureAggregation) {
        this.fail(round, restartReason(round.number));
        continue;
      }
      if (round.phase === 'aggregating' || round.submitted > 0)
        this.fail(round, `the server restarted during the round: its ${round.submitted} update(s) were lost; the next round starts from version ${round.baseVersion}`);
    }
  }

  /** Forgets a deleted task's accumulators. */
  forgetTask(taskId: string, roundIds: number[]): void {
    for (const id of roundIds) {
      this.accumulators.delete(id);
      this.secure.forget(id);
    }
    this.announcedParticipants.delete(taskId);
  }
}
