import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { AccountantState, ClientMetrics } from '@disco/core';
import type { Db } from '../../db/client.js';
import { participants, roundSkips, rounds, updates, type RoundPhaseName } from '../../db/schema.js';
import { prepared } from '../prepared.js';

/**
 * Every query on rounds and updates, and the participant counts rounds are decided on: the round
 * coordinator, the task summaries and the update checks read and write rounds through these. The hot ones
 * (one update, a round's state) are prepared statements, built once per connection (see `prepared.ts`).
 * Each takes the database or the transaction it runs in.
 */

export type RoundRow = typeof rounds.$inferSelect;

/** The task's latest round (the open one while training goes on), if any. */
export function currentRound(db: Db, taskId: string): RoundRow | undefined {
  return prepared(db, 'currentRound', (d) =>
    d.select().from(rounds).where(eq(rounds.taskId, sql.placeholder('taskId'))).orderBy(desc(rounds.number)).limit(1).prepare(),
  ).get({ taskId });
}

/** A task's rounds, newest first: `limit` of them, before round number `before` when given (paging). */
export function listRounds(db: Db, taskId: string, limit: number, before?: number): RoundRow[] {
  return db
    .select()
    .from(rounds)
    .where(before === undefined ? eq(rounds.taskId, taskId) : and(eq(rounds.taskId, taskId), lt(rounds.number, before)))
    .orderBy(desc(rounds.number))
    .limit(limit)
    .all();
}

/** Round `number` of a task. */
export function roundByNumber(db: Db, taskId: string, number: number): RoundRow | undefined {
  return db.select().from(rounds).where(and(eq(rounds.taskId, taskId), eq(rounds.number, number))).get();
}

/** Every open round, oldest first (the scheduler checks their deadlines). */
export function openRounds(db: Db): RoundRow[] {
  return db.select().from(rounds).where(eq(rounds.phase, 'open')).orderBy(asc(rounds.id)).all();
}

/** Rounds a restart may have interrupted: open or aggregating. */
export function unfinishedRounds(db: Db): RoundRow[] {
  return db.select().from(rounds).where(inArray(rounds.phase, ['open', 'aggregating'])).all();
}

/** The ids of a task's rounds. */
export function roundIds(db: Db, taskId: string): number[] {
  return db.select({ id: rounds.id }).from(rounds).where(eq(rounds.taskId, taskId)).all().map((r) => r.id);
}

/** Rounds of a task closed so far. */
export function closedRoundCount(db: Db, taskId: string): number {
  return (
    prepared(db, 'closedRoundCount', (d) =>
      d
        .select({ n: sql<number>`count(*)` })
        .from(rounds)
        .where(and(eq(rounds.taskId, sql.placeholder('taskId')), eq(rounds.phase, 'closed')))
        .prepare(),
    ).get({ taskId })?.n ?? 0
  );
}

/** The metrics and samples of a task's last closed round. */
export function lastClosedRound(db: Db, taskId: string): { metrics: ClientMetrics | null; samples: number } | undefined {
  const row = prepared(db, 'lastClosedRound', (d) =>
    d
      .select({ metrics: rounds.metrics, samples: rounds.samples })
      .from(rounds)
      .where(and(eq(rounds.taskId, sql.placeholder('taskId')), eq(rounds.phase, 'closed')))
      .orderBy(desc(rounds.number))
      .limit(1)
      .prepare(),
  ).get({ taskId });
  return row && { metrics: (row.metrics as ClientMetrics | null) ?? null, samples: row.samples };
}

/** A new open round. */
export function insertRound(
  db: Db,
  values: { taskId: string; number: number; baseVersion: number; openedAt: number; deadlineAt: number | null; strategy: string },
): RoundRow {
  return db
    .insert(rounds)
    .values({ ...values, phase: 'open' })
    .returning()
    .get();
}

/** Sets an open round's deadline and extension count. */
export function setRoundDeadline(db: Db, roundId: number, deadlineAt: number | null, extensions: number): RoundRow {
  return db.update(rounds).set({ deadlineAt, extensions }).where(eq(rounds.id, roundId)).returning().get();
}

/**
 * Moves `round` to phase `to` (with `values`), only if it is still in the phase it was read in: undefined
 * when it changed in between.
 */
export function updateRoundPhase(db: Db, round: RoundRow, to: RoundPhaseName, values: Partial<RoundRow> = {}): RoundRow | undefined {
  return db
    .update(rounds)
    .set({ ...values, phase: to })
    .where(and(eq(rounds.id, round.id), eq(rounds.phase, round.phase)))
    .returning()
    .get();
}

/** Participants whose heartbeat is at or after `since` and who have not left. */
export function activeParticipantCount(db: Db, taskId: string, since: number): number {
  return (
    prepared(db, 'activeCount', (d) =>
      d
        .select({ n: sql<number>`count(*)` })
        .from(participants)
        .where(and(eq(participants.taskId, sql.placeholder('taskId')), isNull(participants.leftAt), gte(participants.lastHeartbeatAt, sql.placeholder('since'))))
        .prepare(),
    ).get({ taskId, since })?.n ?? 0
  );
}

/**
 * Active participants (heartbeat at or after `since`) waited for in `round` that have neither submitted nor
 * skipped it, with their first round and the last round they sent an update for or sat out (null before the
 * first), which core's `isWaitedFor` reads (maxMissedRounds).
 */
export function pendingParticipants(db: Db, round: Pick<RoundRow, 'id' | 'taskId' | 'number'>, since: number): { firstRound: number; lastRound: number | null }[] {
  return prepared(db, 'pendingParticipants', (d) =>
    d
      .select({
        firstRound: participants.firstRound,
        // Secure rounds' submissions are update rows too (without weights).
        lastUpdate: sql<number | null>`(SELECT max(r.number) FROM ${updates} u JOIN ${rounds} r ON r.id = u.round_id WHERE u.participant_id = "participants"."id")`,
        lastSkip: sql<number | null>`(SELECT max(r.number) FROM ${roundSkips} s JOIN ${rounds} r ON r.id = s.round_id WHERE s.participant_id = "participants"."id")`,
      })
      .from(participants)
      .where(
        and(
          eq(participants.taskId, sql.placeholder('taskId')),
          isNull(participants.leftAt),
          gte(participants.lastHeartbeatAt, sql.placeholder('since')),
          lte(participants.firstRound, sql.placeholder('number')),
          sql`NOT EXISTS (SELECT 1 FROM ${updates} WHERE ${updates.roundId} = ${sql.placeholder('roundId')} AND ${updates.participantId} = ${participants.id})`,
          // Participants that sat the round out (sampling) are not waited for either.
          sql`NOT EXISTS (SELECT 1 FROM ${roundSkips} WHERE ${roundSkips.roundId} = ${sql.placeholder('roundId')} AND ${roundSkips.participantId} = ${participants.id})`,
        ),
      )
      .prepare(),
  )
    .all({ taskId: round.taskId, since, number: round.number, roundId: round.id })
    .map((row) => {
      const last = Math.max(row.lastUpdate ?? 0, row.lastSkip ?? 0);
      return { firstRound: row.firstRound, lastRound: last > 0 ? last : null };
    });
}

/** Whether the participant already sent an update for the round. */
export function hasSubmitted(db: Db, roundId: number, participantId: string): boolean {
  return !!prepared(db, 'hasSubmitted', (d) =>
    d
      .select({ id: updates.id })
      .from(updates)
      .where(and(eq(updates.roundId, sql.placeholder('roundId')), eq(updates.participantId, sql.placeholder('participantId'))))
      .prepare(),
  ).get({ roundId, participantId });
}

/** Records an accepted update and counts it (and its samples) in its round, in one transaction; the updated round. */
export function recordUpdate(
  db: Db,
  update: { roundId: number; participantId: string; samples: number; metrics: ClientMetrics; bytes: number; receivedAt: number },
): RoundRow {
  const insertUpdate = prepared(db, 'insertUpdate', (d) =>
    d
      .insert(updates)
      .values({
        roundId: sql.placeholder('roundId'),
        participantId: sql.placeholder('participantId'),
        samples: sql.placeholder('samples'),
        metrics: sql.placeholder('metrics'),
        bytes: sql.placeholder('bytes'),
        receivedAt: sql.placeholder('receivedAt'),
      })
      .prepare(),
  );
  const countUpdate = prepared(db, 'countUpdate', (d) =>
    d
      .update(rounds)
      .set({ submitted: sql`${rounds.submitted} + 1`, samples: sql`${rounds.samples} + ${sql.placeholder('samples')}` })
      .where(eq(rounds.id, sql.placeholder('roundId')))
      .returning()
      .prepare(),
  );
  // The statements run on this connection, so inside the transaction.
  return db.transaction(() => {
    insertUpdate.run(update);
    return countUpdate.get({ roundId: update.roundId, samples: update.samples });
  });
}

/** The samples and metrics of a round's updates. */
export function updateMetrics(db: Db, roundId: number): { samples: number; metrics: ClientMetrics | null }[] {
  return db
    .select({ samples: updates.samples, metrics: updates.metrics })
    .from(updates)
    .where(eq(updates.roundId, roundId))
    .all()
    .map((row) => ({ samples: row.samples, metrics: (row.metrics as ClientMetrics | null) ?? null }));
}

/** Records that a participant sits `roundId` out (its sampling coin came up tails). */
export function recordSkip(db: Db, roundId: number, participantId: string, skippedAt: number): void {
  db.insert(roundSkips).values({ roundId, participantId, skippedAt }).onConflictDoNothing().run();
}

/** Whether the participant said it sits the round out. */
export function hasSkipped(db: Db, roundId: number, participantId: string): boolean {
  return !!prepared(db, 'hasSkipped', (d) =>
    d
      .select({ roundId: roundSkips.roundId })
      .from(roundSkips)
      .where(and(eq(roundSkips.roundId, sql.placeholder('roundId')), eq(roundSkips.participantId, sql.placeholder('participantId'))))
      .prepare(),
  ).get({ roundId, participantId });
}

/** Counts one more update the server clipped in the round; the updated round. */
export function countClipped(db: Db, roundId: number): RoundRow {
  return db.update(rounds).set({ clipped: sql`${rounds.clipped} + 1` }).where(eq(rounds.id, roundId)).returning().get();
}

/** The accountant state stored with a task's last accounted (closed, noisy) round; null before the first. */
export function lastAccountant(db: Db, taskId: string): AccountantState | null {
  const row = prepared(db, 'lastAccountant', (d) =>
    d
      .select({ accountant: rounds.accountant })
      .from(rounds)
      .where(and(eq(rounds.taskId, sql.placeholder('taskId')), eq(rounds.phase, 'closed'), isNotNull(rounds.accountant)))
      .orderBy(desc(rounds.number))
      .limit(1)
      .prepare(),
  ).get({ taskId });
  return (row?.accountant as AccountantState | null | undefined) ?? null;
}

/** Participants that sat the round out. */
export function skipCount(db: Db, roundId: number): number {
  return (
    prepared(db, 'skipCount', (d) =>
      d
        .select({ n: sql<number>`count(*)` })
        .from(roundSkips)
        .where(eq(roundSkips.roundId, sql.placeholder('roundId')))
        .prepare(),
    ).get({ roundId })?.n ?? 0
  );
}

/**
 * The server optimizer's state stored with a task's last closed round (core's `encodeServerOptimizerState`
 * bytes); null before the first, or for a task without one.
 */
export function lastOptimizerState(db: Db, taskId: string): Buffer | null {
  const row = db
    .select({ state: rounds.optimizerState })
    .from(rounds)
    .where(and(eq(rounds.taskId, taskId), eq(rounds.phase, 'closed'), isNotNull(rounds.optimizerState)))
    .orderBy(desc(rounds.number))
    .limit(1)
    .get();
  return row?.state ?? null;
}

/** Clears the optimizer state of a task's closed rounds (before the next is stored: one is kept). */
export function clearOptimizerStates(db: Db, taskId: string): void {
  db.update(rounds).set({ optimizerState: null }).where(and(eq(rounds.taskId, taskId), isNotNull(rounds.optimizerState))).run();
}
