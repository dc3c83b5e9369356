import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import {
  decideSecurePhase,
  decodeSum,
  DiscoApiError,
  SecureAggregationError,
  SecureAggregator,
  secureEncoding,
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
 *
 * **State.** One `SecureAggregator` per round and the sets of who sent what, in this process only: no masked or
 * unmasked individual input is ever stored (the aggregator keeps a running sum). The updates table gets one row per
 * participant and round (its key advertisement: samples 0, no metrics; `bytes` grows with each step it sends). A
 * restart abandons the round (see {@link restartReason}); the next one starts from scratch with fresh keys.
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

export const SECURE_PHASES: readonly SecurePhase[] = ['sharing', 'masking', 'unmasking'];

/** Why a secure round that a restart interrupted fails. */
export function restartReason(number: number): string {
  return `the server restarted during secure round ${number}: it was abandoned, never unmasked from partial state`;
}

interface SecureRound {
  roundId: number;
  taskId: string;
  aggregator: SecureAggregator;
  /** Words of a masked input: the task's parameters and the weight word. */
  length: number;
  /** U1: advertised keys, in arrival order. */
  keys: Map<string, KeyAdvertisement>;
  roster: KeyAdvertisement[];
  /** U2: dealt shares. */
  dealt: Set<string>;
  /** U3: sent a masked input. */
  masked: Set<string>;
  survivors: string[];
  revealed: Set<string>;
}

function isSecurePhase(phase: string): phase is SecurePhase {
  return (SECURE_PHASES as readonly string[]).includes(phase);
}

/** What each step takes, for refusals. */
const TAKES: Record<SecurePhase | 'open', string> = {
  open: 'key advertisements',
  sharing: 'shares',
  masking: 'masked inputs',
  unmasking: 'revealed shares',
};

export class SecureRounds {
  private readonly rounds = new Map<number, SecureRound>();

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
    this.requirePhase(round, 'open');
    let state = this.rounds.get(round.id);
    if (!state) {
      state = {
        roundId: round.id,
        taskId: round.taskId,
        aggregator: new SecureAggregator({ taskId: round.taskId, round: round.number, length: parameterCount + 1 }),
        length: parameterCount + 1,
        keys: new Map(),
        roster: [],
        dealt: new Set(),
        masked: new Set(),
        survivors: [],
        revealed: new Set(),
      };
      this.rounds.set(round.id, state);
    }
    if (state.keys.has(participantId)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already advertised its keys for round ${round.number}`);
    const advertisement = { id: participantId, channelKey: keys.channelKey, maskKey: keys.maskKey };
    guard(() => state.aggregator.receiveKeys(advertisement));
    state.keys.set(participantId, advertisement);
    return recordStep(this.host.db, { roundId: round.id, participantId, bytes, receivedAt: this.host.now() });
  }

  /** Phase `sharing`: the roster U1. */
  roster(round: RoundRow, participantId: string): KeyAdvertisement[] {
    const state = this.member(round, 'sharing', participantId, 'keys');
    return state.roster;
  }

  /** Phase `sharing`: a member's sealed shares, one per other member, each from this participant. */
  receiveShares(round: RoundRow, participantId: string, shares: EncryptedShare[], bytes: number): void {
    const state = this.member(round, 'sharing', participantId, 'keys');
    if (state.dealt.has(participantId)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its shares for round ${round.number}`);
    const forged = shares.find((s) => s.from !== participantId);
    if (forged) throw new DiscoApiError('FORBIDDEN', `a share from "${forged.from}" cannot come with ${participantId}'s token: every share's "from" must be the sender`);
    guard(() => state.aggregator.receiveShares({ from: participantId, shares }));
    state.dealt.add(participantId);
    addBytes(this.host.db, round.id, participantId, bytes);
    this.evaluate(round);
  }

  /** Phase `masking`: the shares sealed to this participant (a member that dealt). */
  sharesFor(round: RoundRow, participantId: string): EncryptedShare[] {
    const state = this.member(round, 'masking', participantId, 'dealt');
    return guard(() => state.aggregator.sharesFor(participantId));
  }

  /** Phase `masking`: a masked input, added to the running sum and not kept. */
  receiveMasked(round: RoundRow, participantId: string, masked: Uint32Array, bytes: number): void {
    const state = this.member(round, 'masking', participantId, 'dealt');
    if (state.masked.has(participantId)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its masked input for round ${round.number}`);
    this.checkLength(state, round, masked.length);
    guard(() => state.aggregator.receiveMasked({ from: participantId, masked }));
    state.masked.add(participantId);
    addBytes(this.host.db, round.id, participantId, bytes);
    this.evaluate(round);
  }

  /** Refuses a masked input of the wrong size before its body is read (SHAPE_MISMATCH, naming both sizes). */
  checkLength(state: Pick<SecureRound, 'length'>, round: Pick<RoundRow, 'number' | 'taskId'>, words: number): void {
    if (words !== state.length)
      throw new DiscoApiError(
        'SHAPE_MISMATCH',
        `a masked input of task "${round.taskId}" has ${state.length} words (${state.length * 4} bytes: its ${state.length - 1} parameters and the weight word), not ${words} (${words * 4} bytes)`,
      );
  }

  /** Phase `masking`, before the body is read: the participant may send now, and the size it must have (bytes). */
  precheckMasked(round: RoundRow, participantId: string): number {
    const state = this.member(round, 'masking', participantId, 'dealt');
    if (state.masked.has(participantId)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its masked input for round ${round.number}`);
    return state.length * 4;
  }

  /** Phase `unmasking`: whose inputs are in the sum (to a survivor). */
  unmaskRequest(round: RoundRow, participantId: string): UnmaskRequest {
    const state = this.member(round, 'unmasking', participantId, 'masked');
    return { survivors: [...state.survivors] };
  }

  /** Phase `unmasking`: a survivor's revealed shares. */
  receiveReveal(round: RoundRow, participantId: string, response: Omit<UnmaskResponse, 'from'>, bytes: number): void {
    const state = this.member(round, 'unmasking', participantId, 'masked');
    if (state.revealed.has(participantId)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already revealed its shares for round ${round.number}`);
    guard(() => state.aggregator.receiveUnmask({ from: participantId, ...response }));
    state.revealed.add(participantId);
    addBytes(this.host.db, round.id, participantId, bytes);
    this.evaluate(round);
  }

  // ── Phases ──

  /** `open` closed (core's decideRound said aggregate): relay the roster U1 in phase `sharing`. */
  startSharing(round: RoundRow, task: Task): void {
    const state = this.rounds.get(round.id);
    if (!state || state.keys.size === 0) return this.host.fail(round, restartReason(round.number));
    try {
      state.roster = state.aggregator.roster();
    } catch (error) {
      return this.host.fail(round, `abandoned: ${(error as Error).message}`);
    }
    this.host.transition(this.host.db, round, 'sharing', { deadlineAt: this.host.now() + this.host.secureStepMs(task) });
    this.host.publish(round.taskId);
  }

  /** Applies `decideSecurePhase` to a round in a secure step: wait, advance, or fail below the threshold. */
  evaluate(round: RoundRow): void {
    if (!isSecurePhase(round.phase)) return;
    const state = this.rounds.get(round.id);
    if (!state) return this.host.fail(round, restartReason(round.number));
    const phase = round.phase;
    const members = phase === 'sharing' ? [...state.keys.keys()] : phase === 'masking' ? [...state.dealt] : state.survivors;
    const sent = phase === 'sharing' ? state.dealt : phase === 'masking' ? state.masked : state.revealed;
    const now = this.host.now();
    const waiting = members.filter((id) => !sent.has(id));
    const active = activeIds(this.host.db, round.taskId, waiting, this.host.heartbeatSince(now));
    const decision = decideSecurePhase({
      phase,
      members: members.length,
      received: members.length - waiting.length,
      pending: waiting.filter((id) => active.has(id)).length,
      threshold: state.aggregator.threshold,
      deadlineAt: round.deadlineAt ?? now,
      now,
    });
    if (decision.action === 'wait') return;
    if (decision.action === 'fail') return this.host.fail(round, decision.reason);
    const task = loadTask(this.host.db, round.taskId).task;
    const deadlineAt = now + this.host.secureStepMs(task);
    if (phase === 'sharing') {
      // The first relay closes the aggregator's step 1 (U2 fixed), whether or not anyone asks for shares.
      state.aggregator.sharesFor([...state.dealt][0]);
      this.host.transition(this.host.db, round, 'masking', { deadlineAt });
      this.host.publish(round.taskId);
    } else if (phase === 'masking') {
      state.survivors = state.aggregator.unmaskRequest().survivors;
      this.host.transition(this.host.db, round, 'unmasking', { deadlineAt });
      this.host.publish(round.taskId);
    } else {
      const aggregating = this.host.transition(this.host.db, round, 'aggregating', { deadlineAt: null });
      this.host.publish(round.taskId);
      void this.unmask(aggregating, task, state);
    }
  }

  /** `aggregating`: removes the masks (WebCrypto, asynchronous), decodes Σwu/Σw and stores the version. */
  private async unmask(aggregating: RoundRow, task: Task, state: SecureRound): Promise<void> {
    let problem: string | undefined;
    try {
      const sum = await state.aggregator.result();
      // Σwu/Σw and Σw, in the code every participant encoded with (core's secureEncoding from |U1|).
      const { mean, totalWeight } = decodeSum(sum, secureEncoding(task, state.roster.length, state.length - 1).code);
      problem = this.host.storeAggregate(aggregating, task, mean, { metrics: null, samples: totalWeight });
    } catch (error) {
      problem = error instanceof SecureAggregationError ? `abandoned: ${error.message}` : `aggregation failed: ${(error as Error).message}`;
      if (!(error instanceof SecureAggregationError)) console.error(`disco: unmasking round ${aggregating.number} of ${task.id} failed`, error);
    }
    this.rounds.delete(state.roundId);
    try {
      if (problem) this.host.failAggregating(aggregating, task, problem);
      else this.host.publishClosed(task.id, aggregating.number);
    } catch (error) {
      console.error(`disco: closing secure round ${aggregating.number} of ${task.id} failed`, error);
    }
  }

  /** The round's secure state, in `phase`, with `participantId` among the members that step serves. */
  private member(round: RoundRow, phase: SecurePhase, participantId: string, set: 'keys' | 'dealt' | 'masked'): SecureRound {
    this.requirePhase(round, phase);
    const state = this.rounds.get(round.id);
    if (!state) throw new DiscoApiError('ROUND_NOT_OPEN', `round ${round.number} was abandoned (the server restarted) and takes no more ${TAKES[phase]}`);
    const isMember = set === 'keys' ? state.keys.has(participantId) : set === 'dealt' ? state.dealt.has(participantId) : state.masked.has(participantId);
    if (!isMember) {
      const why = { keys: 'advertised no keys while the round was open', dealt: 'sent no shares in the sharing step', masked: 'sent no masked input in the masking step' }[set];
      throw new DiscoApiError('FORBIDDEN', `participant ${participantId} takes no part in the ${phase} step of round ${round.number}: it ${why}`);
    }
    return state;
  }

  private requirePhase(round: RoundRow, phase: SecurePhase | 'open'): void {
    if (round.phase !== phase)
      throw new DiscoApiError('ROUND_NOT_OPEN', `round ${round.number} is ${round.phase}: ${TAKES[phase]} are taken in its ${phase} step`);
  }
}

/** A `SecureAggregationError` from a participant's message (malformed, incomplete, out of step) as BAD_REQUEST. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SecureAggregationError) throw new DiscoApiError('BAD_REQUEST', error.message);
    throw error;
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
