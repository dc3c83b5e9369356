import { and, asc, count, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { DiscoApiError, type AccountantState, type ClientMetrics } from '@disco/core';
import { transaction, type Db } from '../../db/client.js';
import { prepared } from '../prepared.js';
import type { RoundPhaseName, rounds } from '../../db/schema.js';
import type { KeptUpdate } from './stored-updates.js';

/**
 * Every query on rounds and updates, and the participant counts rounds are decided on: the round
 * coordinator, the task summaries and the update checks read and write rounds through these. Each takes the
 * database or the transaction it runs in, on either dialect (`db.tables`).
 */

export type RoundRow = typeof rounds.$inferSelect;

/** The task's latest round (the open one while training goes on), if any. */
export async function currentRound(db: Db, taskId: string): Promise<RoundRow | undefined> {
  const statement = prepared(db, 'currentRound', ({ orm, tables: t }) =>
    orm.select().from(t.rounds).where(eq(t.rounds.taskId, sql.placeholder('taskId'))).orderBy(desc(t.rounds.number)).limit(1).prepare(),
  );
  return (await statement.execute({ taskId }))[0];
}

/** A task's rounds, newest first: `limit` of them, before round number `before` when given (paging). */
export async function listRounds(db: Db, taskId: string, limit: number, before?: number): Promise<RoundRow[]> {
  const { orm, tables: t } = db;
  return orm
    .select()
    .from(t.rounds)
    .where(before === undefined ? eq(t.rounds.taskId, taskId) : and(eq(t.rounds.taskId, taskId), lt(t.rounds.number, before)))
    .orderBy(desc(t.rounds.number))
    .limit(limit);
}

/** Round `number` of a task. */
export async function roundByNumber(db: Db, taskId: string, number: number): Promise<RoundRow | undefined> {
  const { orm, tables: t } = db;
  return (await orm.select().from(t.rounds).where(and(eq(t.rounds.taskId, taskId), eq(t.rounds.number, number))).limit(1))[0];
}

/** A round by id. */
export async function roundById(db: Db, id: number): Promise<RoundRow | undefined> {
  const statement = prepared(db, 'roundById', ({ orm, tables: t }) => orm.select().from(t.rounds).where(eq(t.rounds.id, sql.placeholder('id'))).limit(1).prepare());
  return (await statement.execute({ id }))[0];
}

/** Every open round, oldest first (the scheduler checks their deadlines). */
export async function openRounds(db: Db): Promise<RoundRow[]> {
  const { orm, tables: t } = db;
  return orm.select().from(t.rounds).where(eq(t.rounds.phase, 'open')).orderBy(asc(t.rounds.id));
}

/** Rounds a restart may have interrupted: open or aggregating. */
export async function unfinishedRounds(db: Db): Promise<RoundRow[]> {
  const { orm, tables: t } = db;
  return orm.select().from(t.rounds).where(inArray(t.rounds.phase, ['open', 'aggregating'])).orderBy(asc(t.rounds.id));
}

/**
 * Rounds `aggregating` past their deadline (the lease of an aggregation in a worker thread; secure rounds
 * aggregate without one).
 */
export async function stalledAggregations(db: Db, now: number): Promise<RoundRow[]> {
  const { orm, tables: t } = db;
  return orm
    .select()
    .from(t.rounds)
    .where(and(eq(t.rounds.phase, 'aggregating'), isNotNull(t.rounds.deadlineAt), lt(t.rounds.deadlineAt, now)))
    .orderBy(asc(t.rounds.id));
}

/** The ids of a task's rounds. */
export async function roundIds(db: Db, taskId: string): Promise<number[]> {
  const { orm, tables: t } = db;
  return (await orm.select({ id: t.rounds.id }).from(t.rounds).where(eq(t.rounds.taskId, taskId))).map((r) => r.id);
}

/** Rounds of a task closed so far. */
export async function closedRoundCount(db: Db, taskId: string): Promise<number> {
  const { orm, tables: t } = db;
  const rows = await orm
    .select({ n: count() })
    .from(t.rounds)
    .where(and(eq(t.rounds.taskId, taskId), eq(t.rounds.phase, 'closed')));
  return rows[0]?.n ?? 0;
}

/** The metrics and samples of a task's last closed round. */
export async function lastClosedRound(db: Db, taskId: string): Promise<{ metrics: ClientMetrics | null; samples: number } | undefined> {
  const { orm, tables: t } = db;
  const row = (
    await orm
      .select({ metrics: t.rounds.metrics, samples: t.rounds.samples })
      .from(t.rounds)
      .where(and(eq(t.rounds.taskId, taskId), eq(t.rounds.phase, 'closed')))
      .orderBy(desc(t.rounds.number))
      .limit(1)
  )[0];
  return row && { metrics: (row.metrics as ClientMetrics | null) ?? null, samples: row.samples };
}

/** A new open round. */
export async function insertRound(
  db: Db,
  values: { taskId: string; number: number; baseVersion: number; openedAt: number; deadlineAt: number | null; strategy: string },
): Promise<RoundRow> {
  const { orm, tables: t } = db;
  return (
    await orm
      .insert(t.rounds)
      .values({ ...values, phase: 'open' })
      .returning()
  )[0];
}

/**
 * Sets an open round's deadline and extension count, only while it is still open (another instance may have
 * closed it since it was read): undefined then.
 */
export async function setRoundDeadline(db: Db, roundId: number, deadlineAt: number | null, extensions: number): Promise<RoundRow | undefined> {
  const { orm, tables: t } = db;
  return (
    await orm
      .update(t.rounds)
      .set({ deadlineAt, extensions })
      .where(and(eq(t.rounds.id, roundId), eq(t.rounds.phase, 'open')))
      .returning()
  )[0];
}

/**
 * Moves `round` to phase `to` (with `values`), only if it is still in the phase it was read in: undefined
 * when it changed in between (another request, or another instance, moved it first).
 */
export async function updateRoundPhase(db: Db, round: RoundRow, to: RoundPhaseName, values: Partial<RoundRow> = {}): Promise<RoundRow | undefined> {
  const { orm, tables: t } = db;
  return (
    await orm
      .update(t.rounds)
      .set({ ...values, phase: to })
      .where(and(eq(t.rounds.id, round.id), eq(t.rounds.phase, round.phase)))
      .returning()
  )[0];
}

/** Participants whose heartbeat is at or after `since` and who have not left. */
export async function activeParticipantCount(db: Db, taskId: string, since: number): Promise<number> {
  const statement = prepared(db, 'activeParticipantCount', ({ orm, tables: t }) =>
    orm
      .select({ n: count() })
      .from(t.participants)
      .where(and(eq(t.participants.taskId, sql.placeholder('taskId')), isNull(t.participants.leftAt), gte(t.participants.lastHeartbeatAt, sql.placeholder('since'))))
      .prepare(),
  );
  return (await statement.execute({ taskId, since }))[0]?.n ?? 0;
}

/**
 * Active participants (heartbeat at or after `since`) waited for in `round` that have neither submitted nor
 * skipped it, with their first round and the last round they sent an update for or sat out (null before the
 * first), which core's `isWaitedFor` reads (maxMissedRounds).
 */
export async function pendingParticipants(
  db: Db,
  round: Pick<RoundRow, 'id' | 'taskId' | 'number'>,
  since: number,
): Promise<{ firstRound: number; lastRound: number | null }[]> {
  const statement = prepared(db, 'pendingParticipants', ({ orm, tables: t }) =>
    orm
    .select({
      firstRound: t.participants.firstRound,
      // Secure rounds' submissions are update rows too (without weights).
      lastUpdate: sql<number | null>`(SELECT max(r.number) FROM ${t.updates} u JOIN ${t.rounds} r ON r.id = u.round_id WHERE u.participant_id = "participants"."id")`,
      lastSkip: sql<number | null>`(SELECT max(r.number) FROM ${t.roundSkips} s JOIN ${t.rounds} r ON r.id = s.round_id WHERE s.participant_id = "participants"."id")`,
    })
    .from(t.participants)
    .where(
      and(
        eq(t.participants.taskId, sql.placeholder('taskId')),
        isNull(t.participants.leftAt),
        gte(t.participants.lastHeartbeatAt, sql.placeholder('since')),
        lte(t.participants.firstRound, sql.placeholder('round')),
        sql`NOT EXISTS (SELECT 1 FROM ${t.updates} WHERE ${t.updates.roundId} = ${sql.placeholder('roundId')} AND ${t.updates.participantId} = ${t.participants.id})`,
        // Participants that sat the round out (sampling) are not waited for either.
        sql`NOT EXISTS (SELECT 1 FROM ${t.roundSkips} WHERE ${t.roundSkips.roundId} = ${sql.placeholder('roundId')} AND ${t.roundSkips.participantId} = ${t.participants.id})`,
      ),
    ).prepare(),
  );
  const rows = await statement.execute({ taskId: round.taskId, roundId: round.id, since, round: round.number });
  return rows.map((row) => {
    // PostgreSQL hands max() of an integer over as a number, SQLite too; Number() keeps either exact.
    const last = Math.max(Number(row.lastUpdate ?? 0), Number(row.lastSkip ?? 0));
    return { firstRound: row.firstRound, lastRound: last > 0 ? last : null };
  });
}

/** Whether the participant already sent an update for the round. */
export async function hasSubmitted(db: Db, roundId: number, participantId: string): Promise<boolean> {
  const statement = prepared(db, 'hasSubmitted', ({ orm, tables: t }) =>
    orm
      .select({ id: t.updates.id })
      .from(t.updates)
      .where(and(eq(t.updates.roundId, sql.placeholder('roundId')), eq(t.updates.participantId, sql.placeholder('participantId'))))
      .limit(1)
      .prepare(),
  );
  return (await statement.execute({ roundId, participantId })).length > 0;
}

/**
 * Records an accepted update of a synchronous round, the columns that hold it included (`kept`, from
 * stored-updates.ts's `keepUpdate`), and counts it (and its samples) in its round, in one transaction; the
 * updated round. The count comes first and only while the round is open and below `limit` updates: that
 * UPDATE takes the round's row, so that a close on any instance (which moves the phase with a conditional
 * UPDATE of the same row) comes wholly before or wholly after it, and an update is never stored into a round
 * that is already aggregating. Refuses (nothing recorded) with ROUND_NOT_OPEN, `full()` at the limit,
 * DUPLICATE_UPDATE when the participant's update for the round got in first (a retry racing itself, possibly
 * through another instance).
 */
export async function recordUpdate(
  db: Db,
  update: { roundId: number; participantId: string; samples: number; metrics: ClientMetrics; bytes: number; receivedAt: number; kept: KeptUpdate },
  limit: number,
  full: () => Error,
  /** Called within the transaction once the row is inserted (before the commit), with the row's id. */
  recorded?: (updateId: number) => void,
): Promise<RoundRow> {
  return transaction(db, async (tx) => {
    const { orm, tables: t } = tx;
    const conditions = [eq(t.rounds.id, update.roundId), eq(t.rounds.phase, 'open')];
    if (Number.isFinite(limit)) conditions.push(lt(t.rounds.submitted, limit));
    const counted = (
      await orm
        .update(t.rounds)
        .set({ submitted: sql`${t.rounds.submitted} + 1`, samples: sql`${t.rounds.samples} + ${update.samples}` })
        .where(and(...conditions))
        .returning()
    )[0];
    if (!counted) {
      const round = await roundById(tx, update.roundId);
      if (round && round.phase === 'open') throw full();
      throw new DiscoApiError('ROUND_NOT_OPEN', `round ${round?.number ?? '?'} is ${round?.phase ?? 'gone'} and takes no more updates`);
    }
    // After the round's row is taken: a concurrent submission of the same participant has committed by now.
    if (await hasSubmitted(tx, update.roundId, update.participantId))
      throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${counted.number}`);
    const { kept, ...row } = update;
    const [{ id }] = await orm.insert(t.updates).values({ ...row, ...kept }).returning({ id: t.updates.id });
    recorded?.(id);
    return counted;
  });
}

/**
 * The updates kept for the round (stored-updates.ts), in the order their deltas are aggregated: by participant
 * id, compared by UTF-16 code units here rather than by the database's collation (PostgreSQL's may differ from
 * SQLite's binary order), so that one order holds on either engine and on any number of instances.
 */
export async function deltaOrder(db: Db, roundId: number): Promise<{ id: number; participantId: string; samples: number; file: string | null }[]> {
  const { orm, tables: t } = db;
  const rows = await orm
    .select({ id: t.updates.id, participantId: t.updates.participantId, samples: t.updates.samples, file: t.updates.file })
    .from(t.updates)
    .where(and(eq(t.updates.roundId, roundId), or(isNotNull(t.updates.delta), isNotNull(t.updates.file))));
  return rows.sort(byParticipant);
}

/** The samples and metrics of a round's updates, by participant id (the deltas' order: one sum on any instance). */
export async function updateMetrics(db: Db, roundId: number): Promise<{ samples: number; metrics: ClientMetrics | null }[]> {
  const { orm, tables: t } = db;
  const rows = await orm.select({ participantId: t.updates.participantId, samples: t.updates.samples, metrics: t.updates.metrics }).from(t.updates).where(eq(t.updates.roundId, roundId));
  return rows
    .sort((a, b) => byParticipant(a, b))
    .map((row) => ({ samples: row.samples, metrics: (row.metrics as ClientMetrics | null) ?? null }));
}

/** Records that a participant sits `roundId` out (its sampling coin came up tails). */
export async function recordSkip(db: Db, roundId: number, participantId: string, skippedAt: number): Promise<void> {
  const { orm, tables: t } = db;
  await orm.insert(t.roundSkips).values({ roundId, participantId, skippedAt }).onConflictDoNothing();
}

/** Whether the participant said it sits the round out. */
export async function hasSkipped(db: Db, roundId: number, participantId: string): Promise<boolean> {
  const statement = prepared(db, 'hasSkipped', ({ orm, tables: t }) =>
    orm
      .select({ roundId: t.roundSkips.roundId })
      .from(t.roundSkips)
      .where(and(eq(t.roundSkips.roundId, sql.placeholder('roundId')), eq(t.roundSkips.participantId, sql.placeholder('participantId'))))
      .limit(1)
      .prepare(),
  );
  return (await statement.execute({ roundId, participantId })).length > 0;
}

/** The accountant state stored with a task's last accounted (closed, noisy) round; null before the first. */
export async function lastAccountant(db: Db, taskId: string): Promise<AccountantState | null> {
  const { orm, tables: t } = db;
  const row = (
    await orm
      .select({ accountant: t.rounds.accountant })
      .from(t.rounds)
      .where(and(eq(t.rounds.taskId, taskId), eq(t.rounds.phase, 'closed'), isNotNull(t.rounds.accountant)))
      .orderBy(desc(t.rounds.number))
      .limit(1)
  )[0];
  return (row?.accountant as AccountantState | null | undefined) ?? null;
}

/** Participants that sat the round out. */
export async function skipCount(db: Db, roundId: number): Promise<number> {
  const statement = prepared(db, 'skipCount', ({ orm, tables: t }) =>
    orm.select({ n: count() }).from(t.roundSkips).where(eq(t.roundSkips.roundId, sql.placeholder('roundId'))).prepare(),
  );
  return (await statement.execute({ roundId }))[0]?.n ?? 0;
}

/**
 * The server optimizer's state stored with a task's last closed round (core's `encodeServerOptimizerState`
 * bytes); null before the first, or for a task without one.
 */
export async function lastOptimizerState(db: Db, taskId: string): Promise<Buffer | null> {
  const { orm, tables: t } = db;
  const row = (
    await orm
      .select({ state: t.rounds.optimizerState })
      .from(t.rounds)
      .where(and(eq(t.rounds.taskId, taskId), eq(t.rounds.phase, 'closed'), isNotNull(t.rounds.optimizerState)))
      .orderBy(desc(t.rounds.number))
      .limit(1)
  )[0];
  return row?.state ?? null;
}

/** Clears the optimizer state of a task's closed rounds (before the next is stored: one is kept). */
export async function clearOptimizerStates(db: Db, taskId: string): Promise<void> {
  const { orm, tables: t } = db;
  await orm.update(t.rounds).set({ optimizerState: null }).where(and(eq(t.rounds.taskId, taskId), isNotNull(t.rounds.optimizerState)));
}

/** Participant id order by UTF-16 code units, the same whatever the database's collation. */
function byParticipant(a: { participantId: string }, b: { participantId: string }): number {
  return a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0;
}
