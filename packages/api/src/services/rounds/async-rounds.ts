import { and, asc, count, eq, gte, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import {
  admitAsyncUpdate,
  allowsRepeatUpdates,
  asyncSettings,
  budgetExhaustedMessage,
  checkUpdate,
  createBufferAggregator,
  decideVersion,
  DiscoApiError,
  duplicateInBuffer,
  isAsync,
  readWeightsHeader,
  weightedMetrics,
  type ClientMetrics,
  type PrivacySpentState,
  type Task,
  type VersionContribution,
} from '@disco/core';
import { transaction, type Db } from '../../db/client.js';
import type { ParticipantRow } from '../participants.js';
import { loadTask, type StoredTask } from '../tasks.js';
import type { Collect, Collected } from './coordinator.js';
import * as q from './queries.js';
import { keepUpdate, releaseKeptUpdates, storedDeltas } from './stored-updates.js';
import type { RoundRow } from './queries.js';

/**
 * Asynchronous (FedBuff) tasks on the server, decision 0013. The task's current `rounds` row is the buffer of
 * the next version: it stays `open` (no deadline) and takes an update from any participant at any time, as
 * long as its base version is at most `maxStaleness` versions old (core's `admitAsyncUpdate`). It becomes a
 * version when it holds K updates (`async.bufferSize`), or, where a participant adds one update per buffer,
 * when every active participant has one in it (core's `decideVersion`, checked on every update, departure and
 * scheduler tick: a participant that leaves stalls nobody). Aggregation is core's `createBufferAggregator`
 * (staleness-scaled updates through the task's strategy, clipping and noise), then the coordinator's one
 * closing path (server optimizer, finiteness check, DP accounting per version), and the next buffer opens.
 *
 * **Nothing lives only in memory.** An accepted update is written to `async_updates`, its bytes included, in
 * the transaction that counts it in the buffer; the version's transaction clears those bytes (the rows stay
 * as the version's contributors). A restart therefore loses no accepted update: the buffer is the rows, an
 * `open` buffer carries on, one caught `aggregating` is aggregated again at start-up.
 *
 * The coordinator hands this class its closing path (`Host`), and calls it from `updates.ts` (accepting),
 * `recover()` and `rounds.list` (the contributors of each version). As in synchronous rounds, an update
 * counts itself with a conditional UPDATE of the buffer's row (it lands before the buffer starts aggregating,
 * on any instance, or is refused), and a version is stored exactly once (the coordinator's `closeRound`).
 */
export interface AsyncHost {
  db: Db;
  now(): number;
  /** Heartbeats at or after this are active. */
  activeSince(now: number): number;
  /**
   * The coordinator's closing path (`closeRound`): under the task's lock, open (or, after a restart,
   * aggregating) → aggregating → closed or failed, the updates `collect` reads aggregated on this thread or in a
   * worker (robust rules over `offThreadBytes`), the version stored and the next buffer opened; announced.
   * True when the buffer moved.
   */
  close(round: RoundRow, task: Task, collect: Collect): Promise<boolean>;
  privacy(taskId: string): Promise<PrivacySpentState | undefined>;
  publish(taskId: string): Promise<void>;
  /** Runs `body` in the task's queue (one evaluation of a task at a time in this process). */
  serial<T>(taskId: string, body: () => Promise<T>): Promise<T>;
}

/** What the server answers an accepted asynchronous update. */
export interface AsyncSubmitted {
  /** The version the update was buffered for. */
  round: number;
  /** Updates in the open buffer after this one (0 when this one completed a version). */
  submitted: number;
  /** Versions published after the update's base model (0: trained from the latest). */
  staleness: number;
}

export class AsyncRounds {
  constructor(private readonly host: AsyncHost) {}

  /**
   * Checks, before the body is read, that the open buffer takes an update sent for `roundNumber` (trained from
   * version `roundNumber − 1`): not from a version to come (`WRONG_ROUND`), at most `maxStaleness` versions old
   * (`STALE_UPDATE`, naming the current version), and, where each participant adds one update per buffer, not
   * a second one (`DUPLICATE_UPDATE`; the same update again is refused in {@link submit}, once its checksum is
   * read). Returns the buffer and the admission (staleness, weight).
   */
  async admit(task: Task, participantId: string, roundNumber: number): Promise<{ round: RoundRow; admission: Extract<ReturnType<typeof admitAsyncUpdate>, { ok: true }> }> {
    const { db } = this.host;
    const round = await q.currentRound(db, task.id);
    if (!round) throw new DiscoApiError('WRONG_ROUND', `task "${task.id}" has no round (it is not a federated task)`);
    if (round.phase !== 'open') throw await this.notOpen(task, round);
    const admission = admitAsyncUpdate({ taskId: task.id, round: roundNumber, latestVersion: round.baseVersion, settings: asyncSettings(task) });
    if (!admission.ok) throw new DiscoApiError(admission.code, admission.message);
    if (!allowsRepeatUpdates(task)) await this.refuseDuplicate(db, task, round, { participantId, baseVersion: admission.baseVersion, checksum: NaN }, admission.version);
    return { round, admission };
  }

  /** ROUND_NOT_OPEN for a buffer that takes no update now (naming the budget when it is spent). */
  private async notOpen(task: Task, round: RoundRow): Promise<DiscoApiError> {
    const privacy = await this.host.privacy(task.id);
    if (privacy?.exhausted) return new DiscoApiError('ROUND_NOT_OPEN', budgetExhaustedMessage({ id: task.id }, privacy));
    return new DiscoApiError('ROUND_NOT_OPEN', `the buffer of version ${round.baseVersion + 1} is ${round.phase} and takes no more updates; try again in a moment`);
  }

  /**
   * Checks an update completely ({@link admit}, then core's `checkUpdate` against its base version) and, when
   * it passes, stores it in the open buffer, bytes included, in one transaction; then applies the version rule.
   * The transaction counts it first, only while the buffer is open, and checks the duplicate rule again after
   * that (a retry racing itself through another instance counts once); nothing is stored when refused.
   */
  async submit(stored: StoredTask, participant: ParticipantRow, roundNumber: number, body: Uint8Array): Promise<AsyncSubmitted> {
    const { task } = stored;
    const { round, admission } = await this.admit(task, participant.id, roundNumber);
    const { delta, samples, metrics } = checkUpdate(body, {
      taskId: task.id,
      shapes: stored.shapes,
      round: round.number,
      baseVersion: admission.baseVersion,
      maxSamples: task.aggregation.maxSamplesPerUpdate,
    });
    // Read after checkUpdate, which refuses a malformed header.
    const checksum = readWeightsHeader(body).header.checksum;
    const candidate = { participantId: participant.id, baseVersion: admission.baseVersion, checksum };
    await this.refuseDuplicate(this.host.db, task, round, candidate, admission.version);
    const now = this.host.now();
    const kept = await keepUpdate(this.host.db, round.id, body, delta);
    const updated = await transaction(this.host.db, async (tx) => {
      const { orm, tables: t } = tx;
      const counted = (
        await orm
          .update(t.rounds)
          .set({ submitted: sql`${t.rounds.submitted} + 1`, samples: sql`${t.rounds.samples} + ${samples}` })
          .where(and(eq(t.rounds.id, round.id), eq(t.rounds.phase, 'open')))
          .returning()
      )[0];
      if (!counted) throw await this.notOpen(task, (await q.roundById(tx, round.id)) ?? round);
      await this.refuseDuplicate(tx, task, round, candidate, admission.version);
      await orm.insert(t.asyncUpdates).values({
        roundId: round.id,
        participantId: participant.id,
        baseVersion: admission.baseVersion,
        checksum,
        staleness: admission.staleness,
        weight: admission.weight,
        samples,
        metrics,
        ...kept.columns,
        bytes: body.byteLength,
        receivedAt: now,
      });
      return counted;
    }).catch(async (error: unknown) => {
      await kept.discard();
      throw error;
    });
    await this.host.publish(task.id);
    await this.host.serial(task.id, async () => {
      const current = await q.roundById(this.host.db, updated.id);
      if (current) await this.evaluate(current, task);
    });
    const after = await q.currentRound(this.host.db, task.id);
    return { round: admission.version, submitted: after?.id === round.id ? after.submitted : 0, staleness: admission.staleness };
  }

  /**
   * Applies core's `decideVersion` to the open buffer: aggregates it when full, or when every active
   * participant is in it. Called in the task's queue; true when the buffer moved (and was announced).
   */
  async evaluate(round: RoundRow, task: Task): Promise<boolean> {
    if (round.phase !== 'open' || round.submitted === 0) return false;
    const decision = decideVersion({
      buffered: round.submitted,
      bufferSize: asyncSettings(task).bufferSize,
      pending: await this.pendingCount(round),
      minParticipants: task.minParticipants,
      repeats: allowsRepeatUpdates(task),
    });
    if (decision.action !== 'aggregate') return false;
    return this.host.close(round, task, (tx, aggregating) => this.collect(tx, aggregating, task));
  }

  /** Active participants of the task with no update in the buffer. */
  private async pendingCount(round: RoundRow): Promise<number> {
    const since = this.host.activeSince(this.host.now());
    const { orm, tables: t } = this.host.db;
    const rows = await orm
      .select({ n: count() })
      .from(t.participants)
      .where(
        and(
          eq(t.participants.taskId, round.taskId),
          isNull(t.participants.leftAt),
          gte(t.participants.lastHeartbeatAt, since),
          sql`NOT EXISTS (SELECT 1 FROM ${t.asyncUpdates} WHERE ${t.asyncUpdates.roundId} = ${round.id} AND ${t.asyncUpdates.participantId} = ${t.participants.id})`,
        ),
      );
    return rows[0]?.n ?? 0;
  }

  /**
   * Core's `duplicateInBuffer` against this participant's updates in the buffer: a second one where the task
   * takes one per participant, or the same one again (a retried submission) anywhere.
   */
  private async refuseDuplicate(
    db: Db,
    task: Task,
    round: RoundRow,
    candidate: { participantId: string; baseVersion: number; checksum: number },
    version: number,
  ): Promise<void> {
    const { orm, tables: t } = db;
    const own = await orm
      .select({ participantId: t.asyncUpdates.participantId, baseVersion: t.asyncUpdates.baseVersion, checksum: t.asyncUpdates.checksum })
      .from(t.asyncUpdates)
      .where(and(eq(t.asyncUpdates.roundId, round.id), eq(t.asyncUpdates.participantId, candidate.participantId)));
    const refusal = duplicateInBuffer(task, own, candidate, version);
    if (refusal) throw new DiscoApiError('DUPLICATE_UPDATE', refusal);
  }

  /**
   * The buffer's updates, in the closing transaction, in the order they arrived, through core's
   * `createBufferAggregator` (each scaled by its staleness weight, through the task's clipping, strategy and
   * noise). The closing transaction clears their bytes whether the version is stored or the buffer fails (a
   * non-finite aggregate: its updates are dropped with it, the next buffer opens from the same version).
   */
  private async collect(tx: Db, aggregating: RoundRow, task: Task): Promise<Collected> {
    const { orm, tables: t } = tx;
    const clearBuffer = (db: Db) => releaseKeptUpdates(db, 'async_updates', aggregating.id);
    const buffer = await orm
      .select({ id: t.asyncUpdates.id, file: t.asyncUpdates.file, participantId: t.asyncUpdates.participantId, samples: t.asyncUpdates.samples, weight: t.asyncUpdates.weight, metrics: t.asyncUpdates.metrics })
      .from(t.asyncUpdates)
      .where(and(eq(t.asyncUpdates.roundId, aggregating.id), or(isNotNull(t.asyncUpdates.delta), isNotNull(t.asyncUpdates.file))))
      .orderBy(asc(t.asyncUpdates.id));
    try {
      if (buffer.length === 0) throw new Error('its buffer is empty');
      const { parameterCount } = await loadTask(tx, task.id);
      const aggregator = createBufferAggregator(task, parameterCount);
      let index = 0;
      for await (const delta of storedDeltas(tx, 'async_updates', buffer)) {
        const row = buffer[index++];
        aggregator.add(delta, row.samples, row.weight);
      }
      const metrics = weightedMetrics(buffer.map((row) => ({ samples: row.samples, metrics: (row.metrics as ClientMetrics | null) ?? null })));
      // A version's participants are its contributors; its clipping count is its buffer's.
      const contributors = new Set(buffer.map((row) => row.participantId)).size;
      return {
        aggregator,
        metrics,
        get closing() {
          return { participants: contributors, clipped: aggregator.clipped };
        },
        within: (db) => clearBuffer(db),
      };
    } catch (error) {
      // The buffer fails (the coordinator's closing path): its bytes go with it.
      await clearBuffer(tx);
      throw error;
    }
  }

  /**
   * After a restart: a buffer caught `aggregating` is aggregated again from its stored updates; an `open`
   * buffer carries on (aggregated now if the rule says so). Returns the ids of the asynchronous rounds it took
   * care of, which the coordinator leaves alone.
   */
  async recover(unfinished: RoundRow[]): Promise<Set<number>> {
    const handled = new Set<number>();
    for (const round of unfinished) {
      const task = (await loadTask(this.host.db, round.taskId)).task;
      if (!isAsync(task)) continue;
      handled.add(round.id);
      if (round.phase === 'aggregating' || round.submitted >= asyncSettings(task).bufferSize)
        await this.host.serial(task.id, () => this.host.close(round, task, (tx, aggregating) => this.collect(tx, aggregating, task)));
    }
    return handled;
  }

  /** The contributors of each of the given rounds (an asynchronous task's versions), in the order they arrived. */
  async contributions(roundIds: number[]): Promise<Map<number, VersionContribution[]>> {
    const byRound = new Map<number, VersionContribution[]>();
    if (roundIds.length === 0) return byRound;
    const { orm, tables: t } = this.host.db;
    const rows = await orm
      .select({ roundId: t.asyncUpdates.roundId, participantId: t.asyncUpdates.participantId, staleness: t.asyncUpdates.staleness, weight: t.asyncUpdates.weight, samples: t.asyncUpdates.samples })
      .from(t.asyncUpdates)
      .where(inArray(t.asyncUpdates.roundId, roundIds))
      .orderBy(asc(t.asyncUpdates.id));
    for (const { roundId, ...contribution } of rows) {
      const list = byRound.get(roundId) ?? [];
      list.push(contribution);
      byRound.set(roundId, list);
    }
    return byRound;
  }
}
