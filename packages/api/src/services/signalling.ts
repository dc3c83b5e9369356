import { EventEmitter } from 'node:events';
import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import { roundGroups, type PeerRoundInfo, type PeerServerEvent, type PeerSignal } from '@disco/core';
import type { Db } from '../db/client.js';
import { participants, peerReady, peerRounds, peerSignals } from '../db/schema.js';
import { DiscoApiError } from '@disco/core';
import type { ParticipantRow } from './participants.js';
import { RateLimiter } from './rate-limit.js';
import type { RoundCoordinator } from './rounds/coordinator.js';
import { loadTask, type StoredTask } from './tasks.js';

/**
 * Signalling and round coordination of decentralized tasks. The server introduces peers and keeps the
 * rounds' metadata (who is ready, the members and their groups, deadlines); models travel between the
 * peers and never reach it (the update route refuses them: `SCHEME_MISMATCH`).
 *
 * ```
 *   (first ready for r) ─▶ gathering ──(every active participant ready, or gatherMs passed with at least
 *                                       the task's minimum)──▶ running (members, groups, deadline fixed)
 * ```
 * A round is over for a member when it has aggregated and says it is ready for the next one.
 *
 * **State** is in the database only: rounds, readiness and pending signals are rows, so a second API
 * instance on the same database sees them. Subscriptions wake at once for what this instance writes (an
 * in-process notifier). One poller per database, running while anyone subscribes, looks every `pollMs`
 * for what another instance wrote and for rounds whose gathering time is over, and wakes only the
 * subscriptions concerned: the cost of a poll does not grow with the number of subscriptions.
 */
export interface SignallingOptions {
  /**
   * Longest wait of a gathering round for the active participants that are not ready yet. Default: the
   * heartbeat timeout, after which a silent participant no longer counts as active anyway.
   */
  gatherMs: number;
  /** How often the shared poller looks at the database (another instance's writes, gathering timeouts; default 1 s). */
  pollMs: number;
  /** Signals not delivered after this long are dropped (default 60 s). */
  signalTtlMs: number;
  /** Undelivered signals one participant may have waiting (default 2,000). */
  maxPendingSignals: number;
  /** Signals one participant may send per minute (default 600: connecting to dozens of peers takes a few hundred). */
  maxSignalsPerMinute: number;
  /** Bytes of undelivered signals one task may hold in the database (default 8 MiB). */
  maxSignalBytesPerTask: number;
}

export const defaultSignallingOptions: Omit<SignallingOptions, 'gatherMs'> = {
  pollMs: 1_000,
  signalTtlMs: 60_000,
  maxPendingSignals: 2_000,
  maxSignalsPerMinute: 600,
  maxSignalBytesPerTask: 8 * 1024 * 1024,
};

type PeerRoundRow = typeof peerRounds.$inferSelect;

/** What this process shares per database: the wake-ups of its subscriptions, the senders' counters, the poller. */
interface Hub {
  /** Wake-ups (a hint: the rows are the truth): `peer:<id>` for new signals, `task:<id>` for round changes. */
  emitter: EventEmitter;
  senders?: RateLimiter;
  /** Tasks with subscriptions here: how many, and what the poller saw last. */
  watched: Map<string, { count: number; seen?: string }>;
  lastSignalId: number;
  timer?: ReturnType<typeof setInterval>;
}
const hubs = new WeakMap<Db, Hub>();
function hub(db: Db): Hub {
  let h = hubs.get(db);
  if (!h) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    h = { emitter, watched: new Map(), lastSignalId: 0 };
    hubs.set(db, h);
  }
  return h;
}
function notifier(db: Db): EventEmitter {
  return hub(db).emitter;
}

/** One look of the shared poller: gathering timeouts, and what another instance changed or sent. */
function poll(deps: SignallingDeps, h: Hub): void {
  const { db } = deps;
  const now = Date.now();
  for (const [taskId, entry] of h.watched) {
    advance(deps, taskId, now);
    const row = latestRound(db, taskId);
    const seen = JSON.stringify([row ?? null, row ? readyIds(db, taskId, row.number).length : 0, deps.coordinator.activeCount(db, taskId, now)]);
    if (entry.seen !== undefined && seen !== entry.seen) h.emitter.emit(`task:${taskId}`);
    entry.seen = seen;
  }
  const fresh = db.select({ id: peerSignals.id, to: peerSignals.toId }).from(peerSignals).where(gt(peerSignals.id, h.lastSignalId)).all();
  for (const to of new Set(fresh.map((r) => r.to))) h.emitter.emit(`peer:${to}`);
  for (const r of fresh) h.lastSignalId = Math.max(h.lastSignalId, r.id);
}

/** Counts a subscription of `taskId` in the poller (started with the first); returns its release. */
function watchTask(deps: SignallingDeps, taskId: string): () => void {
  const h = hub(deps.db);
  const entry = h.watched.get(taskId) ?? { count: 0 };
  entry.count++;
  h.watched.set(taskId, entry);
  if (!h.timer) {
    h.lastSignalId = deps.db.select({ id: sql<number>`coalesce(max(${peerSignals.id}), 0)` }).from(peerSignals).get()?.id ?? 0;
    h.timer = setInterval(() => {
      try {
        poll(deps, h);
      } catch (error) {
        // A closed database (shutdown) or a transient lock: the next look tries again.
        if (/not open/.test((error as Error).message)) stop();
        else console.error('disco: signalling poll failed', error);
      }
    }, optionsOf(deps).pollMs);
    h.timer.unref();
  }
  const stop = () => {
    clearInterval(h.timer);
    h.timer = undefined;
  };
  return () => {
    if (--entry.count === 0) h.watched.delete(taskId);
    if (h.watched.size === 0) stop();
  };
}

/** What the signalling functions need: the database and the coordinator's timings (AppDeps has both). */
export interface SignallingDeps {
  db: Db;
  coordinator: Pick<RoundCoordinator, 'timings' | 'activeCount'>;
  signalling?: Partial<SignallingOptions>;
}

function optionsOf(deps: SignallingDeps): SignallingOptions {
  return { ...defaultSignallingOptions, gatherMs: deps.coordinator.timings.heartbeatTimeoutMs, ...deps.signalling };
}

/** The task of a participant, which must be decentralized. */
export function requireDecentralized(db: Db, taskId: string): StoredTask {
  const stored = loadTask(db, taskId);
  if (stored.task.scheme !== 'decentralized')
    throw new DiscoApiError('SCHEME_MISMATCH', `task "${taskId}" is ${stored.task.scheme}, not decentralized: it has no peers to signal`);
  return stored;
}

function latestRound(db: Db, taskId: string): PeerRoundRow | undefined {
  return db.select().from(peerRounds).where(eq(peerRounds.taskId, taskId)).orderBy(desc(peerRounds.number)).limit(1).get();
}

function readyIds(db: Db, taskId: string, round: number): string[] {
  return db
    .select({ id: peerReady.participantId })
    .from(peerReady)
    .where(and(eq(peerReady.taskId, taskId), eq(peerReady.round, round)))
    .orderBy(asc(peerReady.participantId))
    .all()
    .map((r) => r.id);
}

/** Ids of the task's participants that beat recently and have not left. */
function activeIds(deps: SignallingDeps, taskId: string, now: number): Set<string> {
  const since = now - deps.coordinator.timings.heartbeatTimeoutMs;
  const rows = deps.db
    .select({ id: participants.id })
    .from(participants)
    .where(and(eq(participants.taskId, taskId), isNull(participants.leftAt), gte(participants.lastHeartbeatAt, since)))
    .all();
  return new Set(rows.map((r) => r.id));
}

function roundDeadlineMs(deps: SignallingDeps, stored: StoredTask): number {
  return deps.coordinator.timings.roundDeadlineMs ?? stored.task.roundDeadlineSeconds * 1000;
}

/** The round as participant `viewer` sees it. */
function roundInfo(deps: SignallingDeps, row: PeerRoundRow, viewer: string, now: number): PeerRoundInfo {
  const participantsNow = deps.coordinator.activeCount(deps.db, row.taskId, now);
  if (row.phase === 'gathering')
    return {
      taskId: row.taskId,
      round: row.number,
      phase: 'gathering',
      members: readyIds(deps.db, row.taskId, row.number),
      member: false,
      group: [],
      startsInMs: Math.max(0, row.gatherUntil - now),
      participants: participantsNow,
    };
  const members = row.members ?? [];
  const member = members.includes(viewer);
  return {
    taskId: row.taskId,
    round: row.number,
    phase: 'running',
    members,
    member,
    group: member ? (row.groups?.[viewer] ?? []) : [],
    topology: (row.topology ?? undefined) as PeerRoundInfo['topology'],
    deadlineInMs: Math.max(0, (row.deadlineAt ?? now) - now),
    participants: participantsNow,
  };
}

/**
 * Starts the task's gathering round when it may: every active participant is ready, or the gathering time
 * is over and at least the task's minimum is ready. Safe to call from anywhere, any number of times, from
 * several instances (the switch to `running` is a conditional update).
 */
export function advance(deps: SignallingDeps, taskId: string, now = Date.now()): void {
  const { db } = deps;
  const row = latestRound(db, taskId);
  if (!row || row.phase !== 'gathering') return;
  const stored = loadTask(db, taskId);
  const active = activeIds(deps, taskId, now);
  const ready = readyIds(db, taskId, row.number).filter((id) => active.has(id));
  const everyone = [...active].every((id) => ready.includes(id));
  if (ready.length < Math.max(1, stored.task.minParticipants) || !(everyone || now >= row.gatherUntil)) return;
  // Secure tasks: all-to-all at any size (roundGroups), at most 255 members.
  const { members, topology, groups } = roundGroups(ready, row.number, stored.task);
  const started = db
    .update(peerRounds)
    .set({ phase: 'running', startedAt: now, deadlineAt: now + roundDeadlineMs(deps, stored), members, groups, topology })
    .where(and(eq(peerRounds.taskId, taskId), eq(peerRounds.number, row.number), eq(peerRounds.phase, 'gathering')))
    .run();
  if (started.changes) notifier(db).emit(`task:${taskId}`);
}

/** `peers.join`: the participant's view of the task's latest round (null before the first). */
export function peerJoin(deps: SignallingDeps, participant: ParticipantRow, now = Date.now()): PeerRoundInfo | null {
  requireDecentralized(deps.db, participant.taskId);
  advance(deps, participant.taskId, now);
  const row = latestRound(deps.db, participant.taskId);
  return row ? roundInfo(deps, row, participant.id, now) : null;
}

/**
 * `peers.ready`: the participant holds the model after `round − 1` and is ready to train `round`. Opens the
 * round (gathering) if it is the next one; a round further ahead is refused, an older one answered with
 * the latest round (the caller is behind and must catch up from a neighbour).
 */
export function markReady(deps: SignallingDeps, participant: ParticipantRow, round: number, metrics: Record<string, number> | undefined, now = Date.now()): PeerRoundInfo {
  const { db } = deps;
  const taskId = participant.taskId;
  requireDecentralized(db, taskId);
  db.transaction((tx) => {
    const latest = latestRound(tx, taskId);
    const next = (latest?.number ?? 0) + 1;
    if (round > next)
      throw new DiscoApiError('WRONG_ROUND', `round ${round} cannot start yet: the latest round of task "${taskId}" is ${latest?.number ?? 0}`);
    if (round === next)
      tx.insert(peerRounds)
        .values({ taskId, number: round, phase: 'gathering', openedAt: now, gatherUntil: now + optionsOf(deps).gatherMs })
        .onConflictDoNothing()
        .run();
    tx.insert(peerReady)
      .values({ taskId, round, participantId: participant.id, readyAt: now, metrics: metrics ?? null })
      .onConflictDoNothing()
      .run();
  });
  // Being ready is a sign of life too.
  db.update(participants).set({ lastHeartbeatAt: now }).where(eq(participants.id, participant.id)).run();
  advance(deps, taskId, now);
  notifier(db).emit(`task:${taskId}`);
  // The latest round: `round` itself, or a later one when the caller is behind.
  return roundInfo(deps, latestRound(db, taskId) as PeerRoundRow, participant.id, now);
}

/**
 * `peers.signal`: stores a signal for another participant of the same task. The sender is the token's
 * participant, never a field of the message; anyone outside the task (or unknown, or gone) is refused.
 */
export function sendSignal(deps: SignallingDeps, participant: ParticipantRow, to: string, signal: PeerSignal, now = Date.now()): void {
  const { db } = deps;
  requireDecentralized(db, participant.taskId);
  if (to === participant.id) throw new DiscoApiError('BAD_REQUEST', 'a participant cannot signal itself');
  const target = db.select({ taskId: participants.taskId, leftAt: participants.leftAt }).from(participants).where(eq(participants.id, to)).get();
  // One message for "unknown" and "another task": whether an id exists elsewhere is none of the sender's business.
  if (!target || target.taskId !== participant.taskId)
    throw new DiscoApiError('FORBIDDEN', `cannot signal "${to}": it is not a participant of task "${participant.taskId}" (signals stay within a task)`);
  if (target.leftAt !== null) throw new DiscoApiError('FORBIDDEN', `cannot signal "${to}": it has left task "${participant.taskId}"`);
  const { signalTtlMs, maxPendingSignals, maxSignalsPerMinute, maxSignalBytesPerTask } = optionsOf(deps);
  const h = hub(db);
  h.senders ??= new RateLimiter(maxSignalsPerMinute, 60_000);
  const wait = h.senders.hit(participant.id);
  if (wait > 0)
    throw new DiscoApiError(
      'TOO_MANY_REQUESTS',
      `participant "${participant.id}" sent more than ${maxSignalsPerMinute} signals in a minute (signalling.maxSignalsPerMinute): try again in ${Math.ceil(wait / 1000)} s`,
    );
  db.delete(peerSignals).where(lt(peerSignals.createdAt, now - signalTtlMs)).run();
  const pending = db.select({ n: sql<number>`count(*)` }).from(peerSignals).where(eq(peerSignals.toId, to)).get()?.n ?? 0;
  if (pending >= maxPendingSignals) throw new DiscoApiError('TOO_MANY_REQUESTS', `"${to}" has ${pending} signals waiting: try again later`);
  const size = Buffer.byteLength(JSON.stringify(signal));
  const stored =
    db
      .select({ bytes: sql<number>`coalesce(sum(length(cast(${peerSignals.payload} as blob))), 0)` })
      .from(peerSignals)
      .where(eq(peerSignals.taskId, participant.taskId))
      .get()?.bytes ?? 0;
  if (stored + size > maxSignalBytesPerTask)
    throw new DiscoApiError(
      'TOO_MANY_REQUESTS',
      `task "${participant.taskId}" holds ${stored} bytes of undelivered signals; this one (${size} bytes) would pass the limit of ${maxSignalBytesPerTask} (signalling.maxSignalBytesPerTask): try again once they are delivered`,
    );
  db.insert(peerSignals).values({ taskId: participant.taskId, fromId: participant.id, toId: to, payload: signal, createdAt: now }).run();
  notifier(db).emit(`peer:${to}`);
}

/**
 * `peers.onEvent`: the signals addressed to `participant` (each delivered once, then deleted) and its view
 * of the latest round whenever it changes, until `signal` aborts.
 */
export async function* watchPeer(deps: SignallingDeps, participant: ParticipantRow, signal?: AbortSignal): AsyncGenerator<PeerServerEvent> {
  const { db } = deps;
  const taskId = participant.taskId;
  requireDecentralized(db, taskId);
  const emitter = notifier(db);
  let wake: (() => void) | null = null;
  let dirty = true;
  const onWake = () => {
    dirty = true;
    wake?.();
  };
  const keys = [`peer:${participant.id}`, `task:${taskId}`];
  for (const key of keys) emitter.on(key, onWake);
  signal?.addEventListener('abort', onWake);
  const unwatch = watchTask(deps, taskId);
  let lastRound = '';
  try {
    while (!signal?.aborted) {
      dirty = false;
      const signals = db
        .select()
        .from(peerSignals)
        .where(eq(peerSignals.toId, participant.id))
        .orderBy(asc(peerSignals.id))
        .limit(200)
        .all();
      for (const row of signals) yield { type: 'signal', from: row.fromId, signal: row.payload as PeerSignal };
      if (signals.length)
        db.delete(peerSignals)
          .where(and(eq(peerSignals.toId, participant.id), inArray(peerSignals.id, signals.map((s) => s.id))))
          .run();
      const now = Date.now();
      advance(deps, taskId, now);
      const row = latestRound(db, taskId);
      if (row) {
        const info = roundInfo(deps, row, participant.id, now);
        // Compare without the countdowns, which change at every look.
        const key = JSON.stringify({ ...info, deadlineInMs: undefined, startsInMs: undefined });
        if (key !== lastRound) {
          lastRound = key;
          yield { type: 'round', round: info };
        }
      }
      if (signals.length === 200 || dirty) continue;
      // Woken by this process's writes or by the shared poller: no timer per subscription.
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    unwatch();
    for (const key of keys) emitter.off(key, onWake);
    signal?.removeEventListener('abort', onWake);
  }
}

/** Signals waiting for a participant (tests and diagnostics). */
export function pendingSignals(db: Db, participantId: string): number {
  return db.select({ n: sql<number>`count(*)` }).from(peerSignals).where(eq(peerSignals.toId, participantId)).get()?.n ?? 0;
}
