import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { participants } from '../db/schema.js';
import { DiscoApiError } from '@disco/core';
import { prepared } from './prepared.js';
import type { RoundCoordinator } from './rounds/coordinator.js';
import { loadTask, type StoredTask } from './tasks.js';
import { hashToken, newId, newToken } from './tokens.js';

export type ParticipantRow = typeof participants.$inferSelect;

/**
 * The participant a bearer token belongs to. Unknown token: UNAUTHORIZED; token of a participant who left:
 * UNAUTHORIZED; token of another task than `taskId` (when given): FORBIDDEN.
 */
export async function authenticate(db: Db, token: string | null, taskId?: string): Promise<ParticipantRow> {
  if (!token) throw new DiscoApiError('UNAUTHORIZED', 'a participant token is required (Authorization: Bearer <token> from federation.join)');
  const [row] = await prepared(db, 'participantByToken', ({ orm, tables: t }) =>
    orm.select().from(t.participants).where(eq(t.participants.tokenHash, sql.placeholder('tokenHash'))).prepare(),
  ).execute({ tokenHash: hashToken(token) });
  if (!row) throw new DiscoApiError('UNAUTHORIZED', 'unknown participant token: join the task again');
  if (taskId !== undefined && row.taskId !== taskId)
    throw new DiscoApiError('FORBIDDEN', `this participant token belongs to another task, not to "${taskId}"`);
  if (row.leftAt !== null) throw new DiscoApiError('UNAUTHORIZED', 'this participant has left the task: join it again');
  return row;
}

export interface Joined {
  participant: ParticipantRow;
  token: string;
  stored: StoredTask;
}

/**
 * Joins a task, or rejoins with a token from an earlier session (the same participant, e.g. after a
 * server restart or a network loss; a token whose participant left gives a new participant).
 */
export async function join(
  db: Db,
  coordinator: RoundCoordinator,
  input: { taskId: string; token?: string; address?: string },
  now = Date.now(),
): Promise<Joined> {
  const { orm, tables: t } = db;
  const stored = await loadTask(db, input.taskId);
  if (stored.task.scheme === 'local')
    throw new DiscoApiError('SCHEME_MISMATCH', `task "${input.taskId}" is a local task: it trains on each device alone and has nothing to join`);
  if (input.token) {
    const [row] = await orm.select().from(t.participants).where(eq(t.participants.tokenHash, hashToken(input.token)));
    if (!row) throw new DiscoApiError('UNAUTHORIZED', 'unknown participant token: join without a token to get a new one');
    if (row.taskId !== input.taskId) throw new DiscoApiError('FORBIDDEN', `this participant token belongs to another task, not to "${input.taskId}"`);
    if (row.leftAt === null) {
      const [participant] = await orm
        .update(t.participants)
        .set({ lastHeartbeatAt: now, address: input.address ?? row.address })
        .where(eq(t.participants.id, row.id))
        .returning();
      // Left between the read and the update (the participant's own leave, on another request): join anew.
      if (participant && participant.leftAt === null) {
        await coordinator.participantsChanged(input.taskId);
        return { participant, token: input.token, stored };
      }
    }
  }
  await coordinator.admitParticipant(stored);
  const token = newToken();
  const [participant] = await orm
    .insert(t.participants)
    .values({
      id: newId('p'),
      taskId: input.taskId,
      tokenHash: hashToken(token),
      joinedAt: now,
      firstRound: await coordinator.firstRoundForJoiner(input.taskId),
      lastHeartbeatAt: now,
      address: input.address ?? null,
    })
    .returning();
  await coordinator.participantsChanged(input.taskId);
  return { participant, token, stored };
}

export async function heartbeat(db: Db, coordinator: RoundCoordinator, participant: ParticipantRow, now = Date.now()): Promise<void> {
  const { orm, tables: t } = db;
  const timedOut = now - participant.lastHeartbeatAt > coordinator.timings.heartbeatTimeoutMs;
  await orm.update(t.participants).set({ lastHeartbeatAt: now }).where(eq(t.participants.id, participant.id));
  // A participant that had been dropped is back: announce it (and let a waiting round start its clock).
  if (timedOut) await coordinator.participantsChanged(participant.taskId);
}

export async function leave(db: Db, coordinator: RoundCoordinator, participant: ParticipantRow, now = Date.now()): Promise<void> {
  const { orm, tables: t } = db;
  await orm.update(t.participants).set({ leftAt: now }).where(eq(t.participants.id, participant.id));
  await coordinator.participantsChanged(participant.taskId);
}
