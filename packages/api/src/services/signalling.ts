import { EventEmitter } from 'node:events';
import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import { roundGroups, type PeerRoundInfo, type PeerServerEvent, type PeerSignal } from '@disco/core';
import { lockTask, rootDb, transaction, type Db, type Notifier } from '../db/client.js';
import type { peerRounds } from '../db/schema.js';
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
 * **State** is in the database only: rounds, readiness and pending signals are rows, so every instance on
 * the same database sees them, and any instance may take any request. Each write notifies the channel
 * `disco_signals` (`peer:<participant id>` for a signal, `task:<task id>` for a round change): every
 * instance, the writer's included, hears it through its one listener and wakes only the subscriptions
 * concerned, which read their rows again. One poller per database, running while anyone subscribes here,
 * looks every `pollMs` for rounds whose gathering time is over, for what no notification says (active
 * participants coming and going) and for signals whose notification was lost (a listener reconnecting);
 * starting a round is decided again under the task's lock and is a conditional update, so the pollers and
 * requests of several instances start it once. The senders' rate limit is the only state per instance.
 */
export interface SignallingOptions {
  /**
   * Longest wait of a gathering round for the active participants that are not ready yet. Default: the
   * heartbeat timeout, after which a silent participant no longer counts as active anyway.
   */
  gatherMs: number;
  /** How often the shared poller looks at the database (gathering timeouts, participants coming and going; default 1 s). */
  pollMs: number;
  /** Signals not delivered after this long are dropped (default 60 s). */
  signalTtlMs: number;
  /** Undelivered signals one participant may have waiting (default 2,000). */
  maxPendingSignals: number;
  /**
   * Signals one participant may send per minute (default 600: connecting to dozens of peers takes a few
   * hundred). Each instance counts the signals it takes, like the joins per address.
   */
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

/** The notification channel of signals and peer rounds; payloads are `peer:<participant id>` or `task:<task id>`. */
const CHANNEL = 'disco_signals';

/** What this process shares per database: the wake-ups of its subscriptions, the senders' counters, the poller. */
interface Hub {
  /** Wake-ups (a hint: the rows are the truth), keyed by the notification's payload. */
  emitter: EventEmitter;
  senders?: RateLimiter;
  /** Tasks with subscriptions here: how many, and what the poller saw last. */
  watched: Map<string, { count: number; seen?: string }>;
  /** The highest signal id the poller has seen (its safety net for a notification that never came). */
  lastSignalId: number;
  /** When this process last deleted stale signals. */
  sweptAt: number;
  timer?: ReturnType<typeof setInterval>;
  polling: boolean;
  /** Stops this process's listener of `disco_signals` (listening while anyone subscribes). */
  unlisten?: () => void;
}
const hubs = new WeakMap<Db, Hub>();
function hub(db: Db): Hub {
  db = rootDb(db);
  let h = hubs.get(db);
  if (!h) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    h = { emitter, watched: new Map(), lastSignalId: 0, sweptAt: 0, polling: false };
    hubs.set(db, h);
  }
  return h;
}

/** Tells every instance (this one included, through its listener) that `key`'s rows changed. */
function notify(deps: SignallingDeps, db: Db, key: `peer:${string}` | `task:${string}`): Promise<void> {
  return deps.notifier.notify(db, CHANNEL, key);
}

/** One look of the shared poller: gathering timeouts, changes no notification announces, missed signals. */
async function poll(deps: SignallingDeps, h: Hub): Promise<void> {
  const { orm, tables: t } = deps.db;
  const now = Date.now();
  for (const [taskId, entry] of h.watched) {
    await advance(deps, taskId, now);
    const row = await latestRound(deps.db, taskId);
    const ready = row ? (await readyIds(deps.db, taskId, row.number)).length : 0;
    const seen = JSON.stringify([row ?? null, ready, await deps.coordinator.activeCount(deps.db, taskId, now)]);
    if (entry.seen !== undefined && seen !== entry.seen) h.emitter.emit(`task:${taskId}`);
    entry.seen = seen;
  }
  const fresh = await orm.select({ id: t.peerSignals.id, to: t.peerSignals.toId }).from(t.peerSignals).where(gt(t.peerSignals.id, h.lastSignalId));
  for (const to of new Set(fresh.map((r) => r.to))) h.emitter.emit(`peer:${to}`);
  for (const r of fresh) h.lastSignalId = Math.max(h.lastSignalId, r.id);
}

/** Counts a subscription of `taskId` (the listener and the poller start with the first); returns its release. */
async function watchTask(deps: SignallingDeps, taskId: string): Promise<() => void> {
  const h = hub(deps.db);
  const entry = h.watched.get(taskId) ?? { count: 0 };
  entry.count++;
  h.watched.set(taskId, entry);
  const stop = () => {
    clearInterval(h.timer);
    h.timer = undefined;
    h.unlisten?.();
    h.unlisten = undefined;
  };
  const release = () => {
    if (--entry.count === 0) h.watched.delete(taskId);
    if (h.watched.size === 0) stop();
  };
  if (!h.unlisten) h.unlisten = deps.notifier.listen(CHANNEL, (payload) => h.emitter.emit(payload));
  if (!h.timer) {
    h.timer = setInterval(() => {
      if (h.polling) return;
      h.polling = true;
      poll(deps, h)
        .catch((error: Error) => {
          // A closed database (shutdown): nothing left to watch. Anything else: the next look tries again.
          // drizzle wraps the driver's error (PostgreSQL's pool: "Cannot use a pool after calling end").
          const cause = error.cause instanceof Error ? error.cause.message : '';
          if (/not open|after calling end/.test(`${error.message} ${cause}`)) stop();
          else console.error('disco: signalling poll failed', error);
        })
        .finally(() => (h.polling = false));
    }, optionsOf(deps).pollMs);
    h.timer.unref();
    try {
      const { orm, tables: t } = deps.db;
      const [last] = await orm.select({ id: sql<number>`coalesce(max(${t.peerSignals.id}), 0)`.mapWith(Number) }).from(t.peerSignals);
      h.lastSignalId = Math.max(h.lastSignalId, last?.id ?? 0);
    } catch (error) {
      release();
      throw error;
    }
  }
  return release;
}

/** What the signalling functions need: the database, its notifier and the coordinator's timings (AppDeps has them all). */
export interface SignallingDeps {
  db: Db;
  notifier: Notifier;
  coordinator: Pick<RoundCoordinator, 'timings' | 'activeCount'>;
  signalling?: Partial<SignallingOptions>;
}

function optionsOf(deps: SignallingDeps): SignallingOptions {
  return { ...defaultSignallingOptions, gatherMs: deps.coordinator.timings.heartbeatTimeoutMs, ...deps.signalling };
}

/** The task of a participant, which must be decentralized. */
export async function requireDecentralized(db: Db, taskId: string): Promise<StoredTask> {
  const stored = await loadTask(db, taskId);
  if (stored.task.scheme !== 'decentralized')
    throw new DiscoApiError('SCHEME_MISMATCH', `task "${taskId}" is ${stored.task.scheme}, not decentralized: it has no peers to signal`);
  return stored;
}

async function latestRound(db: Db, taskId: string): Promise<PeerRoundRow | undefined> {
  const { orm, tables: t } = db;
  return (await orm.select().from(t.peerRounds).where(eq(t.peerRounds.taskId, taskId)).orderBy(desc(t.peerRounds.number)).limit(1))[0];
}

async function readyIds(db: Db, taskId: string, round: number): Promise<string[]> {
  const { orm, tables: t } = db;
  const rows = await orm
    .select({ id: t.peerReady.participantId })
    .from(t.peerReady)
    .where(and(eq(t.peerReady.taskId, taskId), eq(t.peerReady.round, round)))
    .orderBy(asc(t.peerReady.participantId));
  return rows.map((r) => r.id);
}

/** Ids of the task's participants that beat recently and have not left. */
async function activeIds(deps: SignallingDeps, db: Db, taskId: string, now: number): Promise<Set<string>> {
  const { orm, tables: t } = db;
  const since = now - deps.coordinator.timings.heartbeatTimeoutMs;
  const rows = await orm
    .select({ id: t.participants.id })
    .from(t.participants)
    .where(and(eq(t.participants.taskId, taskId), isNull(t.participants.leftAt), gte(t.participants.lastHeartbeatAt, since)));
  return new Set(rows.map((r) => r.id));
}

function roundDeadlineMs(deps: SignallingDeps, stored: StoredTask): number {
  return deps.coordinator.timings.roundDeadlineMs ?? stored.task.roundDeadlineSeconds * 1000;
}

/** The round as participant `viewer` sees it. */
async function roundInfo(deps: SignallingDeps, row: PeerRoundRow, viewer: string, now: number): Promise<PeerRoundInfo> {
  const participantsNow = await deps.coordinator.activeCount(deps.db, row.taskId, now);
  if (row.phase === 'gathering')
    return {
      taskId: row.taskId,
      round: row.number,
      phase: 'gathering',
      members: await readyIds(deps.db, row.taskId, row.number),
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

/** The ready and active participants of a gathering round, when the round may start now; else null. */
async function startingMembers(deps: SignallingDeps, db: Db, stored: StoredTask, row: PeerRoundRow, now: number): Promise<string[] | null> {
  const active = await activeIds(deps, db, row.taskId, now);
  const ready = (await readyIds(db, row.taskId, row.number)).filter((id) => active.has(id));
  const everyone = [...active].every((id) => ready.includes(id));
  if (ready.length < Math.max(1, stored.task.minParticipants) || !(everyone || now >= row.gatherUntil)) return null;
  return ready;
}

/**
 * Starts the task's gathering round when it may: every active participant is ready, or the gathering time
 * is over and at least the task's minimum is ready. Safe to call from anywhere, any number of times, from
 * several instances: the decision is taken again under the task's lock, and the switch to `running` is a
 * conditional update, so a round starts once, with the members of one decision.
 */
export async function advance(deps: SignallingDeps, taskId: string, now = Date.now()): Promise<void> {
  const { db } = deps;
  // Outside a transaction first: most calls find nothing to do.
  const seen = await latestRound(db, taskId);
  if (!seen || seen.phase !== 'gathering') return;
  const stored = await loadTask(db, taskId);
  if (!(await startingMembers(deps, db, stored, seen, now))) return;
  await transaction(db, async (tx) => {
    await lockTask(tx, taskId);
    const row = await latestRound(tx, taskId);
    if (!row || row.phase !== 'gathering') return;
    const ready = await startingMembers(deps, tx, stored, row, now);
    if (!ready) return;
    // Secure tasks: all-to-all at any size (roundGroups), at most 255 members.
    const { members, topology, groups } = roundGroups(ready, row.number, stored.task);
    const { orm, tables: t } = tx;
    const started = await orm
      .update(t.peerRounds)
      .set({ phase: 'running', startedAt: now, deadlineAt: now + roundDeadlineMs(deps, stored), members, groups, topology })
      .where(and(eq(t.peerRounds.taskId, taskId), eq(t.peerRounds.number, row.number), eq(t.peerRounds.phase, 'gathering')))
      .returning({ number: t.peerRounds.number });
    if (started.length) await notify(deps, tx, `task:${taskId}`);
  });
}

/** `peers.join`: the participant's view of the task's latest round (null before the first). */
export async function peerJoin(deps: SignallingDeps, participant: ParticipantRow, now = Date.now()): Promise<PeerRoundInfo | null> {
  await requireDecentralized(deps.db, participant.taskId);
  await advance(deps, participant.taskId, now);
  const row = await latestRound(deps.db, participant.taskId);
  return row ? roundInfo(deps, row, participant.id, now) : null;
}

/**
 * `peers.ready`: the participant holds the model after `round − 1` and is ready to train `round`. Opens the
 * round (gathering) if it is the next one; a round further ahead is refused, an older one answered with
 * the latest round (the caller is behind and must catch up from a neighbour).
 */
export async function markReady(
  deps: SignallingDeps,
  participant: ParticipantRow,
  round: number,
  metrics: Record<string, number> | undefined,
  now = Date.now(),
): Promise<PeerRoundInfo> {
  const { db } = deps;
  const taskId = participant.taskId;
  await requireDecentralized(db, taskId);
  await transaction(db, async (tx) => {
    const { orm, tables: t } = tx;
    const latest = await latestRound(tx, taskId);
    const next = (latest?.number ?? 0) + 1;
    if (round > next)
      throw new DiscoApiError('WRONG_ROUND', `round ${round} cannot start yet: the latest round of task "${taskId}" is ${latest?.number ?? 0}`);
    // Two instances opening the same round: the primary key keeps the first.
    if (round === next)
      await orm
        .insert(t.peerRounds)
        .values({ taskId, number: round, phase: 'gathering', openedAt: now, gatherUntil: now + optionsOf(deps).gatherMs })
        .onConflictDoNothing();
    await orm.insert(t.peerReady).values({ taskId, round, participantId: participant.id, readyAt: now, metrics: metrics ?? null }).onConflictDoNothing();
    // Being ready is a sign of life too.
    await orm.update(t.participants).set({ lastHeartbeatAt: now }).where(eq(t.participants.id, participant.id));
    await notify(deps, tx, `task:${taskId}`);
  });
  await advance(deps, taskId, now);
  // The latest round: `round` itself, or a later one when the caller is behind.
  return roundInfo(deps, (await latestRound(db, taskId)) as PeerRoundRow, participant.id, now);
}

/** The bytes of a stored signal's JSON, as the dialect stores it. */
function payloadBytes(db: Db) {
  const payload = db.tables.peerSignals.payload;
  return db.dialect === 'postgres' ? sql`octet_length(${payload}::text)` : sql`length(cast(${payload} as blob))`;
}

/**
 * `peers.signal`: stores a signal for another participant of the same task. The sender is the token's
 * participant, never a field of the message; anyone outside the task (or unknown, or gone) is refused.
 */
export async function sendSignal(deps: SignallingDeps, participant: ParticipantRow, to: string, signal: PeerSignal, now = Date.now()): Promise<void> {
  const { db } = deps;
  await requireDecentralized(db, participant.taskId);
  if (to === participant.id) throw new DiscoApiError('BAD_REQUEST', 'a participant cannot signal itself');
  const { orm, tables: t } = db;
  const [target] = await orm
    .select({ taskId: t.participants.taskId, leftAt: t.participants.leftAt })
    .from(t.participants)
    .where(eq(t.participants.id, to))
    .limit(1);
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
  const size = Buffer.byteLength(JSON.stringify(signal));
  // Stale signals are deleted by a sender, at most once per poll interval on each instance; the limits ignore them meanwhile.
  if (now - h.sweptAt >= optionsOf(deps).pollMs) {
    h.sweptAt = now;
    await orm.delete(t.peerSignals).where(lt(t.peerSignals.createdAt, now - signalTtlMs));
  }
  // One query for both limits (the addressee is in the sender's task).
  const [held] = await orm
    .select({
      pending: sql<number>`coalesce(sum(case when ${t.peerSignals.toId} = ${to} then 1 else 0 end), 0)`.mapWith(Number),
      bytes: sql<number>`coalesce(sum(${payloadBytes(db)}), 0)`.mapWith(Number),
    })
    .from(t.peerSignals)
    .where(and(eq(t.peerSignals.taskId, participant.taskId), gte(t.peerSignals.createdAt, now - signalTtlMs)));
  const pending = held?.pending ?? 0;
  if (pending >= maxPendingSignals) throw new DiscoApiError('TOO_MANY_REQUESTS', `"${to}" has ${pending} signals waiting: try again later`);
  const stored = held?.bytes ?? 0;
  if (stored + size > maxSignalBytesPerTask)
    throw new DiscoApiError(
      'TOO_MANY_REQUESTS',
      `task "${participant.taskId}" holds ${stored} bytes of undelivered signals; this one (${size} bytes) would pass the limit of ${maxSignalBytesPerTask} (signalling.maxSignalBytesPerTask): try again once they are delivered`,
    );
  // The limits bound what a task holds; they are not exact quotas (two senders at once may each pass one by a
  // signal). A signal is one statement and one notification: each round trip counts when peers connect.
  const store = async (tx: Db) => {
    await tx.orm.insert(tx.tables.peerSignals).values({ taskId: participant.taskId, fromId: participant.id, toId: to, payload: signal, createdAt: now });
    await notify(deps, tx, `peer:${to}`);
  };
  // SQLite: in a transaction of its own, or it would join whichever transaction is open on the shared connection.
  // PostgreSQL: the insert commits by itself (a transaction would cost two more round trips).
  await (db.dialect === 'sqlite' ? transaction(db, store) : store(db));
}

/**
 * `peers.onEvent`: the signals addressed to `participant` (each delivered once, then deleted) and its view
 * of the latest round whenever it changes, until `signal` aborts. Its wake-ups come from the notifications
 * of every instance's writes and from the poller; whatever woke it, it reads the rows.
 */
export async function* watchPeer(deps: SignallingDeps, participant: ParticipantRow, signal?: AbortSignal): AsyncGenerator<PeerServerEvent> {
  const { db } = deps;
  const { orm, tables: t } = db;
  const taskId = participant.taskId;
  await requireDecentralized(db, taskId);
  const emitter = hub(db).emitter;
  let wake: (() => void) | null = null;
  // What to read again: the signals (a `peer:` wake-up) or the round too (a `task:` one, the poller, the start).
  let signalsDirty = true;
  let roundDirty = true;
  const onSignal = () => {
    signalsDirty = true;
    wake?.();
  };
  const onRound = () => {
    roundDirty = true;
    wake?.();
  };
  const peerKey = `peer:${participant.id}`;
  const taskKey = `task:${taskId}`;
  emitter.on(peerKey, onSignal);
  emitter.on(taskKey, onRound);
  signal?.addEventListener('abort', onRound);
  let unwatch: (() => void) | undefined;
  let lastRound = '';
  try {
    unwatch = await watchTask(deps, taskId);
    while (!signal?.aborted) {
      let more = false;
      if (signalsDirty) {
        signalsDirty = false;
        const signals = await orm.select().from(t.peerSignals).where(eq(t.peerSignals.toId, participant.id)).orderBy(asc(t.peerSignals.id)).limit(200);
        for (const row of signals) yield { type: 'signal', from: row.fromId, signal: row.payload as PeerSignal };
        if (signals.length)
          await orm
            .delete(t.peerSignals)
            .where(and(eq(t.peerSignals.toId, participant.id), inArray(t.peerSignals.id, signals.map((s) => s.id))));
        more = signals.length === 200;
      }
      if (roundDirty) {
        roundDirty = false;
        const now = Date.now();
        await advance(deps, taskId, now);
        const row = await latestRound(db, taskId);
        if (row) {
          const info = await roundInfo(deps, row, participant.id, now);
          // Compare without the countdowns, which change at every look.
          const key = JSON.stringify({ ...info, deadlineInMs: undefined, startsInMs: undefined });
          if (key !== lastRound) {
            lastRound = key;
            yield { type: 'round', round: info };
          }
        }
      }
      if (more) signalsDirty = true;
      if (signalsDirty || roundDirty) continue;
      // Woken by a notification (from any instance) or by the shared poller: no timer per subscription.
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    unwatch?.();
    emitter.off(peerKey, onSignal);
    emitter.off(taskKey, onRound);
    signal?.removeEventListener('abort', onRound);
  }
}

/** Signals waiting for a participant (tests and diagnostics). */
export async function pendingSignals(db: Db, participantId: string): Promise<number> {
  const { orm, tables: t } = db;
  return (await orm.select({ n: count() }).from(t.peerSignals).where(eq(t.peerSignals.toId, participantId)))[0]?.n ?? 0;
}
