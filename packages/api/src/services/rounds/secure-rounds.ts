import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import {
  abandonedStep,
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
import type { Db } from '../../db/client.js';
import { participants, rounds, updates, type RoundPhaseName } from '../../db/schema.js';
import { loadTask } from '../tasks.js';
import type { RoundRow } from './queries.js';

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
 * {@link restartReason}); the next one starts from scratch with fresh keys.
 */
export interface SecureRoundHost {
  readonly db: Db;
  now(): number;
  /** How long one secure step may take for this task (ms). */
  secureStepMs(task: Task): number;
  /** Moves a round to a phase (checked against the coordinator's transitions). */
  transition(db: Db, round: RoundRow, to: RoundPhaseName, values?: Partial<RoundRow>): RoundRow;
  /** Fails a round with its reason and opens the next from the same version. */
  fail(round: RoundRow, reason: string): void;
  /** Stores the aggregate delta of an aggregating round and opens the next (the strategy path's end too). */
  storeAggregate(aggregating: RoundRow, task: Task, delta: Float32Array, info: { metrics: null; samples: number }): string | undefined;
  failAggregating(aggregating: RoundRow, task: Task, reason: string): void;
  publish(taskId: string): void;
  publishClosed(taskId: string, number: number): void;
  heartbeatSince(now: number): number;
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
  receiveKeys(round: RoundRow, parameterCount: number, participantId: string, keys: Omit<KeyAdvertisement, 'id'>, bytes: number): RoundRow {
    requireStep(round.number, round.phase, 'open');
    let state = this.rounds.get(round.id);
    if (!state) {
      state = new SecureRoundState(round.taskId, round.number, parameterCount);
      this.rounds.set(round.id, state);
    }
    state.receiveKeys(participantId, keys);
    return recordStep(this.host.db, { roundId: round.id, participantId, bytes, receivedAt: this.host.now() });
  }

  /** Phase `sharing`: the roster U1. */
  roster(round: RoundRow, participantId: string): KeyAdvertisement[] {
    return this.step(round, 'sharing').rosterFor(participantId);
  }

  /** Phase `sharing`: a member's sealed shares, one per other member, each from this participant. */
  receiveShares(round: RoundRow, participantId: string, shares: EncryptedShare[], bytes: number): void {
    this.step(round, 'sharing').receiveShares(participantId, shares);
    addBytes(this.host.db, round.id, participantId, bytes);
    this.evaluate(round);
  }

  /** Phase `masking`: the shares sealed to this participant (a member that dealt). */
  sharesFor(round: RoundRow, participantId: string): EncryptedShare[] {
    return this.step(round, 'masking').sharesFor(participantId);
  }

  /** Phase `masking`: a masked input, added to the running sum and not kept. */
  receiveMasked(round: RoundRow, participantId: string, masked: Uint32Array, bytes: number): void {
    this.step(round, 'masking').receiveMasked(participantId, masked);
    addBytes(this.host.db, round.id, participantId, bytes);
    this.evaluate(round);
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
  receiveReveal(round: RoundRow, participantId: string, response: Omit<UnmaskResponse, 'from'>, bytes: number): void {
    this.step(round, 'unmasking').receiveReveal(participantId, response);
    addBytes(this.host.db, round.id, participantId, bytes);
    this.evaluate(round);
  }

  // ── Phases ──

  /** `open` closed (core's decideRound said aggregate): relay the roster U1 in phase `sharing`. */
  startSharing(round: RoundRow, task: Task): void {
    const state = this.rounds.get(round.id);
    if (!state || state.advertised === 0) return this.host.fail(round, restartReason(round.number));
    const problem = state.openSharing();
    if (problem) return this.host.fail(round, problem);
    this.host.transition(this.host.db, round, 'sharing', { deadlineAt: this.host.now() + this.host.secureStepMs(task) });
    this.host.publish(round.taskId);
  }

  /** Applies `decideSecurePhase` to a round in a secure step: wait, advance, or fail below the threshold. */
  evaluate(round: RoundRow): void {
    if (!isSecurePhase(round.phase)) return;
    const state = this.rounds.get(round.id);
    if (!state) return this.host.fail(round, restartReason(round.number));
    const phase = round.phase;
    const now = this.host.now();
    const since = this.host.heartbeatSince(now);
    const decision = state.decide(phase, { deadlineAt: round.deadlineAt ?? now, now }, (waiting) => activeIds(this.host.db, round.taskId, waiting, since));
    if (decision.action === 'wait') return;
    if (decision.action === 'fail') return this.host.fail(round, decision.reason);
    const task = loadTask(this.host.db, round.taskId).task;
    const next = state.advance(phase);
    if (next === 'aggregating') {
      const aggregating = this.host.transition(this.host.db, round, 'aggregating', { deadlineAt: null });
      this.host.publish(round.taskId);
      void this.unmask(aggregating, task, round.id, state);
    } else {
      this.host.transition(this.host.db, round, next, { deadlineAt: now + this.host.secureStepMs(task) });
      this.host.publish(round.taskId);
    }
  }

  /** `aggregating`: core removes the masks and decodes Σwu/Σw; the version is stored as the strategy path stores it. */
  private async unmask(aggregating: RoundRow, task: Task, roundId: number, state: SecureRoundState): Promise<void> {
    const store = (mean: Float32Array, totalWeight: number) => this.host.storeAggregate(aggregating, task, mean, { metrics: null, samples: totalWeight });
    const { problem, error } = await state.unmask(task, store);
    if (error) console.error(`disco: unmasking round ${aggregating.number} of ${task.id} failed`, error);
    this.rounds.delete(roundId);
    try {
      if (problem) this.host.failAggregating(aggregating, task, problem);
      else this.host.publishClosed(task.id, aggregating.number);
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
function recordStep(db: Db, step: { roundId: number; participantId: string; bytes: number; receivedAt: number }): RoundRow {
  return db.transaction((tx) => {
    tx.insert(updates).values({ ...step, samples: 0, metrics: null }).run();
    return tx.update(rounds).set({ submitted: sql`${rounds.submitted} + 1` }).where(eq(rounds.id, step.roundId)).returning().get();
  });
}

/** Adds the bytes of a later step to the participant's row of the round. */
function addBytes(db: Db, roundId: number, participantId: string, bytes: number): void {
  db.update(updates)
    .set({ bytes: sql`${updates.bytes} + ${bytes}` })
    .where(and(eq(updates.roundId, roundId), eq(updates.participantId, participantId)))
    .run();
}

/** Which of `ids` are active (heartbeat at or after `since`, not left). */
function activeIds(db: Db, taskId: string, ids: string[], since: number): Set<string> {
  if (ids.length === 0) return new Set();
  const rows = db
    .select({ id: participants.id })
    .from(participants)
    .where(and(eq(participants.taskId, taskId), inArray(participants.id, ids), isNull(participants.leftAt), gte(participants.lastHeartbeatAt, since)))
    .all();
  return new Set(rows.map((r) => r.id));
}

/** Rounds in a secure step (after a restart: every one of them was interrupted). */
export function interruptedSecureRounds(db: Db): RoundRow[] {
  return db.select().from(rounds).where(inArray(rounds.phase, [...SECURE_PHASES])).all();
}

/** The rows of these rounds that are in a secure step now. */
export function secureRoundRows(db: Db, ids: number[]): RoundRow[] {
  if (ids.length === 0) return [];
  return db.select().from(rounds).where(and(inArray(rounds.id, ids), inArray(rounds.phase, [...SECURE_PHASES]))).all();
}
