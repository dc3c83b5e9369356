import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import {
  abandonedStep,
  DiscoApiError,
  isSecurePhase,
  requireStep,
  SECURE_PHASES,
  SecureRoundState,
  type EncryptedShare,
  type KeyAdvertisement,
  type SecurePhase,
  type Task,
  type UnmaskRequest,
  type UnmaskResponse,
} from '@disco/core';
import { transaction, type Db } from '../../db/client.js';
import type { RoundPhaseName } from '../../db/schema.js';
import { loadTask } from '../tasks.js';
import { roundById, type RoundRow } from './queries.js';

/**
 * The steps of a secure round (decision 0010) on the server: after `open` (where each key advertisement counts as a
 * participant's submission for `decideRound`), `sharing` → `masking` → `unmasking` → `aggregating`, each closed by
 * core's `decideSecurePhase` (every member it waits for sent, or its deadline) and failed below the threshold.
 * Core's `SecureRoundState` holds a round's aggregator, who sent what and the checks of each message (the in-memory
 * federation runs the same); this file adds what needs the database: the phase and deadline (the round's row), who
 * is active, the participants' rows.
 *
 * **State.** One `SecureRoundState` per round, in this process only: no masked or unmasked individual input is ever
 * stored (the aggregator keeps a running sum). The updates table gets one row per participant and round (its key
 * advertisement: samples 0, no metrics; `bytes` grows with each step it sends). A restart abandons the round (see
 * {@link restartReason}); the next one starts from scratch with fresh keys. For the same reason a server on
 * PostgreSQL, where several instances may serve one task, refuses secure aggregation ({@link refuseSecureAggregation}).
 *
 * Each message runs in the task's queue of the coordinator (`serial`): its step's checks, what it records and
 * the phase decision that follows happen without another message or evaluation of the task in between.
 */
export interface SecureRoundHost {
  readonly db: Db;
  now(): number;
  /** How long one secure step may take for this task (ms). */
  secureStepMs(task: Task): number;
  /** Moves a round to a phase (checked against the coordinator's transitions). */
  transition(db: Db, round: RoundRow, to: RoundPhaseName, values?: Partial<RoundRow>): Promise<RoundRow>;
  /** Fails a round with its reason and opens the next from the same version (called in the task's queue). */
  fail(round: RoundRow, reason: string): Promise<void>;
  /** Stores the unmasked mean of an aggregating round as the next version and opens the next round, or fails it with `problem` (queues itself). */
  finishAggregating(aggregating: RoundRow, task: Task, outcome: { mean: Float32Array; totalWeight: number } | { problem: string }): Promise<void>;
  publish(taskId: string): Promise<void>;
  /** Runs `body` in the task's queue (one evaluation or message of a task at a time in this process). */
  serial<T>(taskId: string, body: () => Promise<T>): Promise<T>;
  heartbeatSince(now: number): number;
}

/**
 * Whether this server runs federated tasks with secure aggregation: only on SQLite (one instance). The one source
 * of truth for {@link refuseSecureAggregation} and for `tasks.capabilities`, which lets a form stop offering it.
 */
export function supportsFederatedSecureAggregation(db: Db): boolean {
  return db.dialect !== 'postgres';
}

/**
 * Refuses secure aggregation on PostgreSQL: a secure round's keys, shares and running masked sum are in the
 * memory of the one process that received them, whereas with PostgreSQL several instances may serve the
 * task, any of which may receive a participant's next message or run the next step, and none of which can
 * see another's state (decision 0015). Refusing the task is honest where silently failing its rounds is not.
 */
export function refuseSecureAggregation(db: Db, task: Task): void {
  if (!supportsFederatedSecureAggregation(db) && task.privacy.secureAggregation)
    throw new DiscoApiError(
      'BAD_REQUEST',
      `task "${task.id}" uses secure aggregation (privacy.secureAggregation), which this server does not run on PostgreSQL: ` +
        'a secure round keeps its keys, shares and masked sum in the memory of one server process, and on PostgreSQL several ' +
        "instances may serve the task, each unaware of the others' state (decision 0015); run this task on a server with SQLite (one instance)",
    );
}

/** Why a secure round that a restart interrupted fails. */
export function restartReason(number: number): string {
  return `the server restarted during secure round ${number}: it was abandoned, never unmasked from partial state`;
}

export class SecureRounds {
  private readonly rounds = new Map<number, SecureRoundState>();

  constructor(private readonly host: SecureRoundHost) {}

  /** Whether this process holds the secure state of a round (false after a restart). */
  has(roundId: number): boolean {
    return this.rounds.has(roundId);
  }

  forget(roundId: number): void {
    this.rounds.delete(roundId);
  }

  /** The secure rounds this process is running, to check their step deadlines on every tick. */
  roundIds(): number[] {
    return [...this.rounds.keys()];
  }

  // ── Messages (each already authenticated: `participantId` is the token's participant) ──

  /** Phase `open`: a participant's keys, which count as its submission (a row, samples 0, no metrics). */
  receiveKeys(read: RoundRow, parameterCount: number, participantId: string, keys: Omit<KeyAdvertisement, 'id'>, bytes: number): Promise<RoundRow> {
    return this.host.serial(read.taskId, async () => {
      const round = await this.current(read);
      refuseSecureAggregation(this.host.db, (await loadTask(this.host.db, round.taskId)).task);
      requireStep(round.number, round.phase, 'open');
      let state = this.rounds.get(round.id);
      if (!state) {
        state = new SecureRoundState(round.taskId, round.number, parameterCount);
        this.rounds.set(round.id, state);
      }
      state.receiveKeys(participantId, keys);
      return recordStep(this.host.db, { roundId: round.id, participantId, bytes, receivedAt: this.host.now() });
    });
  }

  /** The round as it is now (the caller's row may predate a step the queue ran meanwhile). */
  private async current(read: RoundRow): Promise<RoundRow> {
    return (await roundById(this.host.db, read.id)) ?? read;
  }

  /** Phase `sharing`: the roster U1. */
  roster(round: RoundRow, participantId: string): KeyAdvertisement[] {
    return this.step(round, 'sharing').rosterFor(participantId);
  }

  /** Phase `sharing`: a member's sealed shares, one per other member, each from this participant. */
  receiveShares(read: RoundRow, participantId: string, shares: EncryptedShare[], bytes: number): Promise<void> {
    return this.host.serial(read.taskId, async () => {
      const round = await this.current(read);
      this.step(round, 'sharing').receiveShares(participantId, shares);
      await addBytes(this.host.db, round.id, participantId, bytes);
      await this.evaluateLocked(round);
    });
  }

  /** Phase `masking`: the shares sealed to this participant (a member that dealt). */
  sharesFor(round: RoundRow, participantId: string): EncryptedShare[] {
    return this.step(round, 'masking').sharesFor(participantId);
  }

  /** Phase `masking`: a masked input, added to the running sum and not kept. */
  receiveMasked(read: RoundRow, participantId: string, masked: Uint32Array, bytes: number): Promise<void> {
    return this.host.serial(read.taskId, async () => {
      const round = await this.current(read);
      this.step(round, 'masking').receiveMasked(participantId, masked);
      await addBytes(this.host.db, round.id, participantId, bytes);
      await this.evaluateLocked(round);
    });
  }

  /** Phase `masking`, before the body is read: the participant may send now, and the size it must have (bytes). */
  precheckMasked(round: RoundRow, participantId: string): number {
    return this.step(round, 'masking').precheckMasked(participantId);
  }

  /** Phase `unmasking`: whose inputs are in the sum (to a survivor). */
  unmaskRequest(round: RoundRow, participantId: string): UnmaskRequest {
    return this.step(round, 'unmasking').unmaskRequest(participantId);
  }

  /** Phase `unmasking`: a survivor's revealed shares. */
  receiveReveal(read: RoundRow, participantId: string, response: Omit<UnmaskResponse, 'from'>, bytes: number): Promise<void> {
    return this.host.serial(read.taskId, async () => {
      const round = await this.current(read);
      this.step(round, 'unmasking').receiveReveal(participantId, response);
      await addBytes(this.host.db, round.id, participantId, bytes);
      await this.evaluateLocked(round);
    });
  }

  // ── Phases ──

  /** `open` closed (core's decideRound said aggregate): relay the roster U1 in phase `sharing`. True: announced. */
  async startSharing(round: RoundRow, task: Task): Promise<boolean> {
    const state = this.rounds.get(round.id);
    if (!state || state.advertised === 0) {
      await this.host.fail(round, restartReason(round.number));
      return true;
    }
    const problem = state.openSharing();
    if (problem) {
      await this.host.fail(round, problem);
      return true;
    }
    await this.host.transition(this.host.db, round, 'sharing', { deadlineAt: this.host.now() + this.host.secureStepMs(task) });
    await this.host.publish(round.taskId);
    return true;
  }

  /**
   * Applies `decideSecurePhase` to a round in a secure step (read again first): wait, advance, or fail below
   * the threshold. Called in the task's queue.
   */
  async evaluateLocked(read: RoundRow): Promise<void> {
    const round = await this.current(read);
    if (!isSecurePhase(round.phase)) return;
    const state = this.rounds.get(round.id);
    if (!state) return this.host.fail(round, restartReason(round.number));
    const phase = round.phase;
    const now = this.host.now();
    const since = this.host.heartbeatSince(now);
    // Core asks synchronously which of the members it waits for are active: the task's active ones, read first.
    const active = await activeIds(this.host.db, round.taskId, since);
    const decision = state.decide(phase, { deadlineAt: round.deadlineAt ?? now, now }, (waiting) => new Set(waiting.filter((id) => active.has(id))));
    if (decision.action === 'wait') return;
    if (decision.action === 'fail') return this.host.fail(round, decision.reason);
    const task = (await loadTask(this.host.db, round.taskId)).task;
    const next = state.advance(phase);
    if (next === 'aggregating') {
      const aggregating = await this.host.transition(this.host.db, round, 'aggregating', { deadlineAt: null });
      await this.host.publish(round.taskId);
      void this.unmask(aggregating, task, round.id, state);
    } else {
      await this.host.transition(this.host.db, round, next, { deadlineAt: now + this.host.secureStepMs(task) });
      await this.host.publish(round.taskId);
    }
  }

  /** `aggregating`: core removes the masks and decodes Σwu/Σw; the version is stored as the strategy path stores it. */
  private async unmask(aggregating: RoundRow, task: Task, roundId: number, state: SecureRoundState): Promise<void> {
    // Core's step hands the mean to a synchronous callback; the store (database calls) follows it.
    let unmasked: { mean: Float32Array; totalWeight: number } | undefined;
    const { problem, error } = await state.unmask(task, (mean, totalWeight) => void (unmasked = { mean, totalWeight }));
    if (error) console.error(`disco: unmasking round ${aggregating.number} of ${task.id} failed`, error);
    this.rounds.delete(roundId);
    try {
      await this.host.finishAggregating(aggregating, task, problem || !unmasked ? { problem: problem ?? 'aggregation failed: nothing was unmasked' } : unmasked);
    } catch (error) {
      console.error(`disco: closing secure round ${aggregating.number} of ${task.id} failed`, error);
    }
  }

  /** The round's secure state in step `phase` (ROUND_NOT_OPEN outside it, or once a restart abandoned it). */
  private step(round: RoundRow, phase: SecurePhase): SecureRoundState {
    requireStep(round.number, round.phase, phase);
    const state = this.rounds.get(round.id);
    if (!state) throw abandonedStep(round.number, phase);
    return state;
  }
}

/** One row per participant and secure round: who took part, bytes and time; no samples, no metrics, no input. */
function recordStep(db: Db, step: { roundId: number; participantId: string; bytes: number; receivedAt: number }): Promise<RoundRow> {
  return transaction(db, async (tx) => {
    const { orm, tables: t } = tx;
    await orm.insert(t.updates).values({ ...step, samples: 0, metrics: null });
    return (
      await orm
        .update(t.rounds)
        .set({ submitted: sql`${t.rounds.submitted} + 1` })
        .where(eq(t.rounds.id, step.roundId))
        .returning()
    )[0];
  });
}

/** Adds the bytes of a later step to the participant's row of the round. */
async function addBytes(db: Db, roundId: number, participantId: string, bytes: number): Promise<void> {
  const { orm, tables: t } = db;
  await orm
    .update(t.updates)
    .set({ bytes: sql`${t.updates.bytes} + ${bytes}` })
    .where(and(eq(t.updates.roundId, roundId), eq(t.updates.participantId, participantId)));
}

/** The task's active participants (heartbeat at or after `since`, not left). */
async function activeIds(db: Db, taskId: string, since: number): Promise<Set<string>> {
  const { orm, tables: t } = db;
  const rows = await orm
    .select({ id: t.participants.id })
    .from(t.participants)
    .where(and(eq(t.participants.taskId, taskId), isNull(t.participants.leftAt), gte(t.participants.lastHeartbeatAt, since)));
  return new Set(rows.map((r) => r.id));
}

/** Rounds in a secure step (after a restart: every one of them was interrupted). */
export async function interruptedSecureRounds(db: Db): Promise<RoundRow[]> {
  const { orm, tables: t } = db;
  return orm.select().from(t.rounds).where(inArray(t.rounds.phase, [...SECURE_PHASES]));
}

/** The rows of these rounds that are in a secure step now. */
export async function secureRoundRows(db: Db, ids: number[]): Promise<RoundRow[]> {
  if (ids.length === 0) return [];
  const { orm, tables: t } = db;
  return orm.select().from(t.rounds).where(and(inArray(t.rounds.id, ids), inArray(t.rounds.phase, [...SECURE_PHASES])));
}
