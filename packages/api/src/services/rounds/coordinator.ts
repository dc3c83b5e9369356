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
  type RoundState,
  type Task,
} from '@disco/core';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { lockTask, transaction, type Db, type Notifier } from '../../db/client.js';
import type { RoundPhaseName } from '../../db/schema.js';
import type { RoundEvents } from '../events.js';
import { getVersionWeights, latestVersion, storeVersion } from '../models.js';
import { loadTask, type StoredTask } from '../tasks.js';
import { aggregateInWorker } from './aggregation-thread.js';
import { AsyncRounds } from './async-rounds.js';
import { KeyedMutex } from './keyed-mutex.js';
import * as q from './queries.js';
import type { RoundRow } from './queries.js';
import { RunningSums } from './running-sums.js';
import { keepUpdate, LostUpdate, releaseKeptUpdates, storedDeltas, sweepUpdateFiles } from './stored-updates.js';
import { interruptedSecureRounds, refuseSecureAggregation, restartReason, secureRoundRows, SecureRounds } from './secure-rounds.js';

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
 * **State.** Everything lives in the database, the accepted updates of the open round included (decisions 0015
 * and 0016: kept before the transaction that records them, a file beside the SQLite database or the row's delta
 * on PostgreSQL; stored-updates.ts). Whichever process closes a round aggregates its updates there (core's
 * `createRoundAggregator`): from the running sum it kept of those it recorded itself (a cache, running-sums.ts)
 * and the others read back in participant-id order. A restart or a killed instance loses no accepted update:
 * an open round carries on, an `aggregating` one is aggregated again. Only secure rounds keep state in memory
 * (their masked sum; secure-rounds.ts), which is why a server on PostgreSQL refuses them.
 *
 * **Concurrency.** Within a process, one task's evaluations, closes and failures run one at a time (a keyed
 * mutex, {@link RoundCoordinator.serial}); across processes, every close, failure and opening happens in a
 * transaction that first takes the task's lock (`lockTask`) and moves the phase with a conditional UPDATE, so
 * that a round closes, fails or opens exactly once whichever instance gets there first. An update counts
 * itself with a conditional UPDATE of its round's row (`q.recordUpdate`), so it lands wholly before a close
 * or is refused. Every instance runs the scheduler; announcements go through the database's notifier.
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

/** A round's failure whose reason is this message as it is (not "aggregation failed: …"). */
export class RoundFailure extends Error {}

/**
 * What a closing path aggregates: an aggregator holding the round's updates (added in their stored order),
 * the round's metrics, and what the closed row records besides (clipping count, contributors).
 */
export interface Collected {
  aggregator: {
    readonly clipped: number;
    readonly buffered?: { readonly count: number; readonly size: number; take(): { updates: Float32Array[]; weights: number[] } };
    result(): Float32Array;
  };
  metrics: ClientMetrics | null;
  /** Values the closed row gets besides the coordinator's (e.g. `clipped`, an async version's `participants`). */
  closing?: Partial<RoundRow>;
  /** Writes in the closing transaction, whether the round closes (`closed`) or fails. */
  within?: (tx: Db, closed: boolean) => Promise<void>;
}

/** Reads the updates of a round that has just gone `aggregating`, in the closing transaction. */
export type Collect = (tx: Db, aggregating: RoundRow) => Promise<Collected>;

/** What the round-announcement channel carries: the task, and the round that closed or failed, or the participant count. */
interface RoundNotice {
  taskId: string;
  closed?: number;
  participants?: number;
  /** The task was deleted: every instance ends its subscriptions to it. */
  deleted?: true;
}

/** Notifications within this process only: for a coordinator built without the database's notifier (SQLite). */
function processNotifier(): Notifier {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    notify(_db, channel, payload) {
      emitter.emit(channel, payload);
      return Promise.resolve();
    },
    listen(channel, handler) {
      emitter.on(channel, handler);
      return () => emitter.off(channel, handler);
    },
  };
}

export class RoundCoordinator {
  /** Last participant count announced per task (to announce drops once); derived, not state. */
  private readonly announcedParticipants = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** The scheduler's run in progress: a tick never starts while the previous one runs. */
  private ticking: Promise<void> | undefined;
  /** Aggregations running in a worker thread, by round id (terminated by {@link stop}). */
  private readonly workers = new Map<number, Worker>();
  private stopped = false;
  /** One task's evaluations, closes and failures, one at a time in this process. */
  private readonly queue = new KeyedMutex();
  /** Announcements per task, in the order they were received. */
  private readonly announcements = new KeyedMutex();
  private unlisten: (() => void) | undefined;
  private readonly notifier: Notifier;
  /** The steps of secure rounds, and their in-memory state (lost on restart, by design). */
  readonly secure: SecureRounds;
  /** Asynchronous (FedBuff) tasks' buffers, all in the database (async-rounds.ts, decision 0013). */
  readonly async: AsyncRounds;
  /** The sums of open rounds' updates as this process recorded them: a cache of what is stored (running-sums.ts). */
  private readonly running = new RunningSums();

  constructor(
    private readonly db: Db,
    private readonly events: RoundEvents,
    readonly timings: RoundTimings = defaultTimings,
    private readonly clock: () => number = Date.now,
    /** Memory bound on the updates a non-streaming strategy (median, trimmed mean, Krum) buffers per task. */
    readonly maxBufferedUpdateBytes: number = DEFAULT_MAX_BUFFERED_UPDATE_BYTES,
    /** The database's notifier (`openDb`): required on PostgreSQL, where other instances must hear of every change. */
    notifier?: Notifier,
  ) {
    if (!notifier && db.dialect === 'postgres') throw new Error('a round coordinator on PostgreSQL needs the database notifier (openDb().notifier)');
    this.notifier = notifier ?? processNotifier();
    this.secure = new SecureRounds({
      db: this.db,
      now: () => this.clock(),
      secureStepMs: (task) => Math.min(this.timings.secureStepMs ?? 30_000, this.deadlineMs(task)),
      transition: (tx, round, to, values) => this.transition(tx, round, to, values),
      fail: (round, reason) => this.failLocked(round, reason),
      finishAggregating: (aggregating, task, outcome) =>
        this.serial(task.id, () =>
          'problem' in outcome
            ? this.failLocked(aggregating, outcome.problem).then(() => undefined)
            : this.closeAggregating(aggregating, task, () => outcome.mean, {
                metrics: null,
                closing: { samples: outcome.totalWeight },
                aggregator: { clipped: 0, result: () => outcome.mean },
              }),
        ),
      publish: (taskId) => this.publish(taskId),
      serial: (taskId, body) => this.serial(taskId, body),
      heartbeatSince: (now) => now - this.timings.heartbeatTimeoutMs,
    });
    this.async = new AsyncRounds({
      db: this.db,
      now: () => this.clock(),
      activeSince: (now) => now - this.timings.heartbeatTimeoutMs,
      close: (round, task, collect) => this.closeRound(round, task, collect),
      privacy: (taskId) => this.privacy(taskId),
      publish: (taskId) => this.publish(taskId),
      serial: (taskId, body) => this.serial(taskId, body),
    });
  }

  /** Runs `body` after the task's earlier evaluations, closes and failures in this process (see the file's comment). */
  serial<T>(taskId: string, body: () => Promise<T>): Promise<T> {
    return this.queue.run(taskId, body);
  }

  /** Listens for round announcements, recovers rounds interrupted by a restart and starts the deadline scheduler. */
  async start(): Promise<void> {
    this.stopped = false;
    this.unlisten ??= this.notifier.listen('disco_rounds', (payload) => this.received(payload));
    await sweepUpdateFiles(this.db);
    await this.recover();
    this.timer = setInterval(() => void this.tick(), this.timings.tickMs);
    this.timer.unref();
  }

  /**
   * Stops the scheduler and the workers; resolves once the tick and the closes in progress have finished (so
   * that the database can be closed after it). A round aggregating in a worker stays `aggregating` in the
   * database: the next start aggregates it again from its stored updates (recover()).
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.unlisten?.();
    this.unlisten = undefined;
    for (const worker of this.workers.values()) void worker.terminate();
    this.workers.clear();
    await this.ticking;
    await this.queue.idle();
    await this.announcements.idle();
  }

  /** Deadline of a round opened now for this task. */
  private deadlineMs(task: Task): number {
    return this.timings.roundDeadlineMs ?? task.roundDeadlineSeconds * 1000;
  }

  /**
   * Opens round 1 of a new federated task (in the caller's transaction). Refuses secure aggregation on
   * PostgreSQL (see `refuseSecureAggregation`), which aborts the task's creation.
   */
  async openFirstRound(tx: Db, task: Task): Promise<void> {
    if (task.scheme !== 'federated') return;
    refuseSecureAggregation(tx, task);
    await this.insertRound(tx, task, 1, 0, this.clock());
  }

  private async insertRound(tx: Db, task: Task, number: number, baseVersion: number, now: number): Promise<RoundRow> {
    const active = await this.activeCount(tx, task.id, now);
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
  currentRound(taskId: string): Promise<RoundRow | undefined> {
    return q.currentRound(this.db, taskId);
  }

  /** Participants whose heartbeat is recent and who have not left. */
  activeCount(db: Db, taskId: string, now = this.clock()): Promise<number> {
    return q.activeParticipantCount(db, taskId, now - this.timings.heartbeatTimeoutMs);
  }

  /**
   * Active participants waited for in `round` that have not submitted yet, without those that missed the
   * task's `maxMissedRounds` rounds in a row (core's `isWaitedFor`, which the in-memory federation applies too).
   */
  private async pendingCount(db: Db, round: RoundRow, task: Task, now: number): Promise<number> {
    const maxMissed = task.maxMissedRounds ?? DEFAULT_MAX_MISSED_ROUNDS;
    const pending = await q.pendingParticipants(db, round, now - this.timings.heartbeatTimeoutMs);
    return pending.filter((p) => isWaitedFor({ round: round.number, ...p }, maxMissed)).length;
  }

  /** Active participants waited for in `round` (submitted or not). */
  private async expectedCount(db: Db, round: RoundRow, task: Task, now: number): Promise<number> {
    return (await this.pendingCount(db, round, task, now)) + round.submitted;
  }

  /** The state a client sees: current round, latest version, participants, last closed round's metrics. */
  async state(taskId: string): Promise<RoundState> {
    const now = this.clock();
    const round = await this.currentRound(taskId);
    const latest = await latestVersion(this.db, taskId);
    const lastClosed = await q.lastClosedRound(this.db, taskId);
    const state: RoundState = {
      taskId,
      round: round?.number ?? 0,
      phase: round?.phase ?? 'closed',
      modelVersion: latest?.version ?? 0,
      participants: await this.activeCount(this.db, taskId, now),
      submitted: round?.submitted ?? 0,
      deadline: round && ['open', 'sharing', 'masking', 'unmasking'].includes(round.phase) ? (round.deadlineAt ?? null) : null,
    };
    if (lastClosed) state.metrics = { ...(lastClosed.metrics ?? {}), samples: lastClosed.samples };
    const privacy = await this.privacy(taskId);
    if (privacy) state.privacy = privacy;
    const task = (await loadTask(this.db, taskId)).task;
    // The buffer's round is the version it becomes (its row's number runs ahead after a failed buffer).
    if (isAsync(task)) Object.assign(state, { mode: 'async', bufferSize: task.async.bufferSize, round: state.modelVersion + 1 });
    return state;
  }

  /**
   * What a task with noise has spent (the accountant stored with its last closed round), and whether its
   * budget is exhausted; undefined for a task without noise.
   */
  async privacy(taskId: string, db: Db = this.db): Promise<PrivacySpentState | undefined> {
    const task = (await loadTask(db, taskId)).task;
    if (!(task.privacy.noiseMultiplier ?? 0)) return undefined;
    return privacyState(task, await q.lastAccountant(db, taskId));
  }

  /**
   * Announces the task's current state to its subscribers, on every instance: a notification on
   * `disco_rounds`, which each instance's listener turns into a state read for its own subscribers (none read
   * where nobody watches). Never throws: the change it announces is committed whatever happens to the notice.
   */
  publish(taskId: string): Promise<void> {
    return this.notify({ taskId });
  }

  /** Announces the closed (or failed) round itself, then the newly opened one. */
  private publishClosed(taskId: string, number: number): Promise<void> {
    return this.notify({ taskId, closed: number });
  }

  private async notify(notice: RoundNotice): Promise<void> {
    try {
      await this.notifier.notify(this.db, 'disco_rounds', JSON.stringify(notice));
    } catch (error) {
      console.error(`disco: announcing a round change of ${notice.taskId} failed`, error);
    }
  }

  /** A notice from any instance (this one included): the state, read once, for this instance's subscribers. */
  private received(payload: string): void {
    let notice: RoundNotice;
    try {
      notice = JSON.parse(payload) as RoundNotice;
    } catch {
      return;
    }
    if (typeof notice?.taskId !== 'string') return;
    // A round closed or failed (here or on another instance): its running sum, if this instance kept one, is done.
    if (typeof notice.closed === 'number') this.running.forgetTask(notice.taskId, notice.closed);
    if (notice.deleted) {
      this.forgetTask(notice.taskId, []);
      this.events.endTask(notice.taskId);
      return;
    }
    // Each instance's tick announces a changed participant count once: every instance learns it was announced.
    if (notice.participants !== undefined) this.announcedParticipants.set(notice.taskId, notice.participants);
    void this.announcements.run(notice.taskId, () => this.announce(notice)).catch((error) => {
      // Deleted meanwhile (its own notice ends the subscriptions; this covers one that did not arrive).
      if (error instanceof DiscoApiError && error.code === 'NOT_FOUND') return this.events.endTask(notice.taskId);
      console.error(`disco: round announcement of ${notice.taskId} failed`, error);
    });
  }

  private async announce(notice: RoundNotice): Promise<void> {
    const { taskId } = notice;
    // A state is six queries: not worth reading for nobody (a subscriber gets the current state when it subscribes).
    if (!this.events.watched(taskId)) return;
    const state = await this.state(taskId);
    if (notice.closed !== undefined) {
      const row = await q.roundByNumber(this.db, taskId, notice.closed);
      if (row) this.events.publish({ ...state, round: row.number, phase: row.phase, submitted: row.submitted, deadline: null });
    }
    this.announcedParticipants.set(taskId, state.participants);
    this.events.publish(state);
  }

  /** The round a participant joining now is first waited for in (see the file's comment). */
  async firstRoundForJoiner(taskId: string): Promise<number> {
    const round = await this.currentRound(taskId);
    if (!round) return 1;
    return round.phase === 'open' && round.submitted === 0 ? round.number : round.number + 1;
  }

  /** A participant joined, came back or left: start a waiting round's clock, re-check closing, announce. */
  async participantsChanged(taskId: string): Promise<void> {
    await this.serial(taskId, async () => {
      const round = await this.currentRound(taskId);
      if (round?.phase === 'open') await this.evaluateLocked(round);
      else if (round) await this.secure.evaluateLocked(round);
    });
    await this.publish(taskId);
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
  async admitParticipant(stored: Pick<StoredTask, 'task' | 'parameterCount'>): Promise<void> {
    const limit = this.participantLimit(stored);
    if ((await this.activeCount(this.db, stored.task.id)) >= limit) throw this.fullError(stored, limit);
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
  async requireOpenRound(taskId: string, roundNumber: number): Promise<RoundRow> {
    const round = await this.currentRound(taskId);
    if (!round) throw new DiscoApiError('WRONG_ROUND', `task "${taskId}" has no round (it is not a federated task)`);
    if (round.number !== roundNumber) {
      const privacy = round.phase === 'closed' ? await this.privacy(taskId) : undefined;
      if (privacy?.exhausted) throw new DiscoApiError('ROUND_NOT_OPEN', budgetExhaustedMessage({ id: taskId }, privacy));
      const which = roundNumber < round.number ? `round ${roundNumber} is closed` : `round ${roundNumber} has not started`;
      throw new DiscoApiError('WRONG_ROUND', `${which}; the current round is ${round.number} (${round.phase})`);
    }
    if (round.phase !== 'open') throw new DiscoApiError('ROUND_NOT_OPEN', `round ${round.number} is ${round.phase} and takes no more updates`);
    return round;
  }

  hasSubmitted(roundId: number, participantId: string): Promise<boolean> {
    return q.hasSubmitted(this.db, roundId, participantId);
  }

  /**
   * Records a checked update (`delta` against the round's base version, `message` the body it was read from):
   * kept first (stored-updates.ts: a file on SQLite, the row on PostgreSQL), then recorded in one transaction
   * that counts it in the round only while the round is open (`q.recordUpdate`); then applies the round
   * policy, which closes the round when that was the last one expected. `delta` and `message` may be views of
   * the request's body: nothing keeps them past this call. In memory, only the round's running sum (a cache).
   */
  async submit(round: RoundRow, participantId: string, update: { message: Uint8Array; delta: Float32Array; samples: number; metrics: ClientMetrics }): Promise<RoundRow> {
    const stored = await loadTask(this.db, round.taskId);
    const limit = this.participantLimit(stored);
    // A participant that dropped out and came back may exceed the join-time bound: the bound holds anyway
    // (checked again where the update is counted).
    if (round.submitted >= limit) throw this.fullError(stored, limit);
    if (await q.hasSkipped(this.db, round.id, participantId))
      throw new DiscoApiError('WRONG_ROUND', `this participant sat round ${round.number} out (sampling): it sends no update for it; wait for round ${round.number + 1}`);
    const { samples, metrics } = update;
    const kept = await keepUpdate(this.db, round.id, update.message, update.delta);
    let updated: RoundRow;
    let summed = false;
    try {
      updated = await q.recordUpdate(
        this.db,
        { roundId: round.id, participantId, samples, metrics, bytes: update.message.byteLength, receivedAt: this.clock(), kept: kept.columns },
        limit,
        () => this.fullError(stored, limit),
        // Summed as it is recorded, before any close can read the round (decision 0016).
        (updateId) => {
          summed = true;
          this.running.add(stored, round.id, round.number, updateId, update.delta, samples);
        },
      );
    } catch (error) {
      // Summed, then not committed: the running sum holds an update that is not stored. A refusal before the
      // sum (a duplicate, a closed round) leaves it as it was.
      if (summed) this.running.forget(round.id);
      await kept.discard();
      throw error;
    }
    const announced = await this.serial(round.taskId, () => this.evaluateLocked(updated));
    // Announced here while the round still collects updates; the update that completes it is announced by the
    // round's close (one state fewer per round for every subscriber).
    if (!announced) await this.publish(round.taskId);
    return updated;
  }

  /**
   * A participant sits `round` out (tasks with a sampling rate: its coin came up tails): the round stops
   * waiting for it. Refused after an update, and for a task without sampling.
   */
  async skip(round: RoundRow, participantId: string): Promise<void> {
    const task = (await loadTask(this.db, round.taskId)).task;
    if ((task.privacy.samplingRate ?? 1) >= 1)
      throw new DiscoApiError('BAD_REQUEST', `task "${task.id}" has no sampling rate (privacy.samplingRate): every participant takes part in every round`);
    if (await q.hasSubmitted(this.db, round.id, participantId))
      throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${round.number}: it cannot sit it out`);
    await q.recordSkip(this.db, round.id, participantId, this.clock());
    await this.evaluate(round);
    await this.publish(round.taskId);
  }

  /**
   * Runs every deadline and drop check (the scheduler calls it every `tickMs`; every instance runs it, the
   * transactions decide who acts). Resolves when done; a call while one runs waits for that one instead of
   * starting another.
   */
  tick(): Promise<void> {
    this.ticking ??= this.runTick().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    try {
      for (const round of await q.openRounds(this.db)) {
        if (this.stopped) return;
        await this.evaluate(round);
        const count = await this.activeCount(this.db, round.taskId);
        if (this.announcedParticipants.get(round.taskId) !== count) {
          this.announcedParticipants.set(round.taskId, count);
          await this.notify({ taskId: round.taskId, participants: count });
        }
      }
      // Aggregations in a worker past their lease and not running here: the instance computing them may have died.
      const stalled = (await q.stalledAggregations(this.db, this.clock())).filter((round) => !this.workers.has(round.id));
      if (stalled.length && !this.stopped) await this.resume(stalled);
      // The steps of secure rounds: their deadlines, and members that vanished.
      for (const round of await secureRoundRows(this.db, this.secure.roundIds())) await this.serial(round.taskId, () => this.secure.evaluateLocked(round));
    } catch (error) {
      // A scheduler error must never take the server down; the next tick tries again.
      console.error('disco: round scheduler error', error);
    }
  }

  /** Applies the round policy to the round (re-read first): after the task's earlier evaluations in this process. */
  async evaluate(round: Pick<RoundRow, 'id' | 'taskId'>): Promise<void> {
    await this.serial(round.taskId, () => this.evaluateLocked(round));
  }

  /**
   * Applies the round policy (`decideRound`) to an open round: wait, start its clock, close, extend, idle or
   * fail. Reads the round again (it may have changed since the caller read it, here or on another instance).
   * True when it announced what it did (a close, a failure, a new deadline).
   */
  private async evaluateLocked(read: Pick<RoundRow, 'id'>): Promise<boolean> {
    const round = await q.roundById(this.db, read.id);
    if (round?.phase !== 'open') return false;
    const now = this.clock();
    const stored = await loadTask(this.db, round.taskId);
    const task = stored.task;
    // An asynchronous buffer has no deadline: core's version rule instead (async-rounds.ts).
    if (isAsync(task)) return this.async.evaluate(round, task);
    const decision = decideRound({
      submitted: round.submitted,
      pending: await this.pendingCount(this.db, round, task, now),
      skipped: await q.skipCount(this.db, round.id),
      active: await this.activeCount(this.db, round.taskId, now),
      minParticipants: task.minParticipants,
      deadlineAt: round.deadlineAt,
      now,
      extensions: round.extensions,
      maxExtensions: this.timings.maxExtensions,
      roundDeadlineMs: this.deadlineMs(task),
    });
    switch (decision.action) {
      case 'wait':
        return false;
      case 'start':
        await q.setRoundDeadline(this.db, round.id, decision.deadlineAt, round.extensions);
        return false;
      case 'aggregate':
        // A secure round's key advertisements are in: its masked steps follow (secure-rounds.ts).
        if (task.privacy.secureAggregation) return this.secure.startSharing(round, task);
        return this.closeRound(round, task, (tx, aggregating) => this.collectDeltas(tx, aggregating, task, stored.parameterCount));
      case 'idle':
        if (!(await q.setRoundDeadline(this.db, round.id, null, 0))) return false;
        await this.publish(round.taskId);
        return true;
      case 'extend':
        if (!(await q.setRoundDeadline(this.db, round.id, decision.deadlineAt, decision.extensions))) return false;
        await this.publish(round.taskId);
        return true;
      case 'fail':
        await this.failLocked(round, decision.reason);
        return true;
    }
  }

  private async transition(tx: Db, round: RoundRow, to: RoundPhaseName, values: Partial<RoundRow> = {}): Promise<RoundRow> {
    if (!transitions[round.phase].includes(to)) throw new Error(`round ${round.number} cannot go from ${round.phase} to ${to}`);
    const next = await q.updateRoundPhase(tx, round, to, values);
    if (!next) throw new Error(`round ${round.number} changed phase concurrently`);
    return next;
  }

  /**
   * A synchronous round's updates, as the closer aggregates them: this instance's running sum of the updates
   * it recorded (decision 0016), then every other stored update in participant-id order into the task's
   * aggregator (central clipping, the strategy, noise), streamed (stored-updates.ts) so that memory holds two
   * updates besides the aggregate. Without a running sum (a restart, a robust rule), all of them in that order.
   */
  private async collectDeltas(tx: Db, aggregating: RoundRow, task: Task, parameterCount: number): Promise<Collected> {
    const order = await q.deltaOrder(tx, aggregating.id);
    // Fewer deltas than counted updates: accepted by a server version that kept them in memory, before a restart.
    if (order.length === 0 || order.length < aggregating.submitted) throw new RoundFailure('the updates of this round were lost (server restart)');
    // This instance's running sum, if it kept one, and the updates it does not hold (other instances'; all without one).
    const running = this.running.take(aggregating.id, order);
    const aggregator = running?.aggregator ?? createRoundAggregator(task, parameterCount);
    const missing = running ? order.filter((update) => !running.holds.has(update.id)) : order;
    let index = 0;
    for await (const delta of storedDeltas(tx, 'updates', missing)) aggregator.add(delta, missing[index++].samples);
    const metrics = weightedMetrics(await q.updateMetrics(tx, aggregating.id));
    return {
      aggregator,
      metrics,
      get closing() {
        return { clipped: aggregator.clipped };
      },
    };
  }

  /**
   * open → aggregating → closed (or failed), exactly once across instances: in one transaction that takes the
   * task's lock, re-reads the round (nothing happens if it moved on), moves it to `aggregating`, collects its
   * updates (`collect`), then stores base + aggregate as the next version with the round closed, its deltas
   * cleared and the next round opened (synced: decision 0014). An instance that dies before the commit leaves
   * the round as it was, with its updates, for another instance to close. A non-streaming strategy over
   * `offThreadBytes` or more commits `aggregating` instead and computes in a worker thread (the request that
   * sent the last update returns at once; the server keeps answering), then closes it in a second transaction.
   * `round` is the row as read (`open`, or `aggregating` when a restart aggregates it again). True when the
   * round moved (and was announced).
   */
  private async closeRound(round: RoundRow, task: Task, collect: Collect): Promise<boolean> {
    // Set inside the transaction when the aggregate is computed in a worker.
    const held: { offThread?: { aggregating: RoundRow; collected: Collected; updates: Float32Array[]; weights: number[] } } = {};
    const outcome = await transaction(
      this.db,
      async (tx) => {
        await lockTask(tx, task.id);
        const current = await q.roundById(tx, round.id);
        if (!current || current.phase !== round.phase) return 'gone' as const;
        // Aggregated again (a restart, a stalled worker): not if another instance took it over since it was read.
        if (current.phase === 'aggregating' && current.deadlineAt !== round.deadlineAt) return 'gone' as const;
        // The deadline of an aggregation that commits `aggregating` (a worker's): past it, any instance's tick
        // aggregates the round again, in case the one computing it died (the close happens once either way).
        const lease = { deadlineAt: this.clock() + this.aggregationLeaseMs(task) };
        const aggregating =
          current.phase === 'aggregating'
            ? ((await q.updateRoundPhase(tx, current, 'aggregating', lease)) ?? current)
            : await this.transition(tx, current, 'aggregating', lease);
        let collected: Collected;
        try {
          collected = await collect(tx, aggregating);
        } catch (error) {
          await this.failIn(tx, aggregating, task, this.reasonOf(error, aggregating, task));
          return 'failed' as const;
        }
        const buffered = collected.aggregator.buffered;
        if (buffered && buffered.count * buffered.size * 4 >= (this.timings.offThreadBytes ?? DEFAULT_OFF_THREAD_BYTES)) {
          // The updates move to the worker (transferred): this thread keeps none of them meanwhile.
          held.offThread = { aggregating, collected, ...buffered.take() };
          return 'aggregating' as const;
        }
        return this.finishIn(tx, aggregating, task, () => collected.aggregator.result(), collected);
      },
      { durable: true },
    );
    if (outcome === 'gone') return false;
    const offThread = held.offThread;
    if (outcome !== 'aggregating' || !offThread) {
      await this.publishClosed(task.id, round.number);
      return true;
    }
    // Seconds in a worker: announce the phase. On this thread the round closes within the call, and the close is announced.
    await this.publish(task.id);
    const { aggregating, collected, updates, weights } = offThread;
    const { strategy, parameter, bucketing } = task.aggregation;
    void aggregateInWorker({ settings: { strategy, parameter, bucketing }, updates, weights }, (worker) => this.workers.set(aggregating.id, worker))
      .then(
        (delta) => () => delta,
        (error: Error) => () => {
          throw error;
        },
      )
      .then((compute) => {
        this.workers.delete(aggregating.id);
        // Stopped: the round stays `aggregating`; the next start aggregates it again from its stored updates.
        if (this.stopped) return;
        return this.serial(task.id, () => this.closeAggregating(aggregating, task, compute, collected));
      })
      .catch((error) => console.error(`disco: closing round ${aggregating.number} of ${task.id} failed`, error));
    return true;
  }

  /**
   * aggregating → closed with the aggregate `compute` returns (or failed with the reason it throws), for an
   * aggregate computed outside the closing transaction (a worker thread, a secure round's unmasked sum):
   * under the task's lock, only if the round is still `aggregating` (a deleted task, or another instance that
   * aggregated it again after a restart, leaves nothing to do). Announces what it did.
   */
  private async closeAggregating(aggregating: RoundRow, task: Task, compute: () => Float32Array, collected: Collected): Promise<void> {
    const outcome = await transaction(
      this.db,
      async (tx) => {
        await lockTask(tx, task.id);
        const current = await q.roundById(tx, aggregating.id);
        if (current?.phase !== 'aggregating') return 'gone' as const;
        return this.finishIn(tx, current, task, compute, collected);
      },
      { durable: true },
    );
    if (outcome !== 'gone') await this.publishClosed(task.id, aggregating.number);
  }

  /** How long an aggregation in a worker may take before another instance's tick does it again: the round's deadline, at least 30 s. */
  private aggregationLeaseMs(task: Task): number {
    return Math.max(this.deadlineMs(task), 30_000);
  }

  /** Why a round fails when collecting or computing its aggregate threw. */
  private reasonOf(error: unknown, round: RoundRow, task: Task): string {
    if (error instanceof RoundFailure || error instanceof LostUpdate) return error.message;
    console.error(`disco: aggregation of round ${round.number} of ${task.id} failed`, error);
    return `aggregation failed: ${(error as Error).message}`;
  }

  /** In the closing transaction: stores the aggregate `compute` returns, or fails the round with why not. */
  private async finishIn(tx: Db, aggregating: RoundRow, task: Task, compute: () => Float32Array, collected: Collected): Promise<'closed' | 'failed'> {
    let problem: string | undefined;
    try {
      problem = await this.storeIn(tx, aggregating, task, compute(), collected);
    } catch (error) {
      problem = this.reasonOf(error, aggregating, task);
    }
    if (!problem) {
      await collected.within?.(tx, true);
      return 'closed';
    }
    await this.failIn(tx, aggregating, task, problem);
    await collected.within?.(tx, false);
    return 'failed';
  }

  /**
   * The one way an aggregating round closes, whatever computed its delta (the round's stored updates, an
   * asynchronous buffer, the sum a secure round unmasked), inside the closing transaction: new global = base
   * + delta, checked, then stored with the round closed and the next one opened. Returns why the round must
   * fail instead (nothing stored), or undefined.
   */
  private async storeIn(tx: Db, aggregating: RoundRow, task: Task, delta: Float32Array, info: Pick<Collected, 'metrics' | 'closing'>): Promise<string | undefined> {
    const now = this.clock();
    const base = await getVersionWeights(tx, task.id, aggregating.baseVersion);
    // The task's server optimizer (FedOpt) turns the aggregate into the step, from the state stored with the
    // last closed round (so that it survives restarts). It acts on what the round released: the unmasked sum of
    // a secure round, the noisy mean of a DP round (post-processing).
    const optimizer = task.aggregation.serverOptimizer;
    let optimized: { step: Float32Array; state: Buffer } | undefined;
    if (optimizer) {
      const stored = await q.lastOptimizerState(tx, task.id);
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
    const participantsCount = await this.expectedCount(tx, aggregating, task, now);
    const version = ((await latestVersion(tx, task.id))?.version ?? -1) + 1;
    // One optimizer state is kept per task: the new round's.
    if (optimized) await q.clearOptimizerStates(tx, task.id);
    await storeVersion(tx, task.id, version, { values, shapes: base.shapes }, aggregating.number, now);
    const closing: Partial<RoundRow> = { closedAt: now, modelVersion: version, metrics: info.metrics, participants: participantsCount, deadlineAt: null, ...info.closing };
    if (optimized) closing.optimizerState = optimized.state;
    // Differential privacy: this round is one step of the task's accountant, stored with the version.
    const account = accountRound(task, await q.lastAccountant(tx, task.id));
    if (account) Object.assign(closing, account);
    await this.transition(tx, aggregating, 'closed', closing);
    await releaseKeptUpdates(tx, 'updates', aggregating.id);
    // The budget rule: no round opens that would take ε above the task's budget; the task is finished.
    if (!(account && privacyState(task, account.accountant)?.exhausted)) await this.insertRound(tx, task, aggregating.number + 1, version, now);
    return undefined;
  }

  /**
   * open/aggregating (or a secure step) → failed, the next round opened from the same version, exactly once
   * across instances (the task's lock, the round re-read); announced. Called with the task's queue held.
   */
  private async failLocked(round: RoundRow, reason: string): Promise<void> {
    const task = (await loadTask(this.db, round.taskId)).task;
    this.secure.forget(round.id);
    const failed = await transaction(this.db, async (tx) => {
      await lockTask(tx, task.id);
      const current = await q.roundById(tx, round.id);
      if (!current || current.phase !== round.phase) return false;
      await this.failIn(tx, current, task, reason);
      return true;
    });
    if (failed) await this.publishClosed(task.id, round.number);
  }

  /** In a transaction holding the task's lock: `round` → failed, its deltas cleared, the next round opened from the same version. */
  private async failIn(tx: Db, round: RoundRow, task: Task, reason: string): Promise<void> {
    this.running.forget(round.id);
    const now = this.clock();
    const participantsCount = await this.expectedCount(tx, round, task, now);
    const metrics = weightedMetrics(await q.updateMetrics(tx, round.id));
    await this.transition(tx, round, 'failed', { closedAt: now, failureReason: reason, participants: participantsCount, metrics, deadlineAt: null });
    await releaseKeptUpdates(tx, 'updates', round.id);
    await this.insertRound(tx, task, round.number + 1, round.baseVersion, now);
  }

  /**
   * Rounds a restart (or a killed instance) interrupted. Synchronous and asynchronous rounds lose nothing:
   * an open round carries on with its stored updates (closed now if the policy says so), an `aggregating` one
   * is aggregated again from them. Secure rounds fail: their state was in the memory of the process that
   * ran them.
   */
  async recover(): Promise<void> {
    // A secure round never resumes from partial state: it is abandoned, and the next one starts with fresh keys.
    for (const round of await interruptedSecureRounds(this.db))
      if (!this.secure.has(round.id)) await this.serial(round.taskId, () => this.failLocked(round, restartReason(round.number)));
    await this.resume(await q.unfinishedRounds(this.db));
  }

  /** Open rounds carry on (evaluated now), `aggregating` ones are aggregated again, each from its stored updates. */
  private async resume(unfinished: RoundRow[]): Promise<void> {
    // Asynchronous buffers: the same, through their own rule (async-rounds.ts).
    const resumed = await this.async.recover(unfinished);
    for (const round of unfinished) {
      if (resumed.has(round.id) || this.secure.has(round.id) || this.workers.has(round.id)) continue;
      const stored = await loadTask(this.db, round.taskId);
      if (round.submitted > 0 && stored.task.privacy.secureAggregation) {
        await this.serial(round.taskId, () => this.failLocked(round, restartReason(round.number)));
        continue;
      }
      if (round.phase === 'aggregating')
        await this.serial(round.taskId, () =>
          this.closeRound(round, stored.task, (tx, aggregating) => this.collectDeltas(tx, aggregating, stored.task, stored.parameterCount)),
        );
      else await this.evaluate(round);
    }
  }

  /**
   * A task was deleted here: forgets its state and tells every instance (this one included) to end its
   * subscriptions to it and forget it too.
   */
  async taskDeleted(taskId: string, roundIds: number[]): Promise<void> {
    this.forgetTask(taskId, roundIds);
    await this.notify({ taskId, deleted: true });
  }

  /** Forgets a deleted task's in-memory state (secure rounds, announcements, running sums). */
  forgetTask(taskId: string, roundIds: number[]): void {
    for (const id of roundIds) this.secure.forget(id);
    this.running.forgetTask(taskId);
    this.announcedParticipants.delete(taskId);
  }
}
