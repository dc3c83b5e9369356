import { and, asc, eq, gte, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
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
import type { Db } from '../../db/client.js';
import { asyncUpdates, participants, rounds, type RoundPhaseName } from '../../db/schema.js';
import type { ParticipantRow } from '../participants.js';
import { loadTask, type StoredTask } from '../tasks.js';
import * as q from './queries.js';
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
 * `recover()` and `rounds.list` (the contributors of each version).
 */
export interface AsyncHost {
  db: Db;
  now(): number;
  transition(tx: Db, round: RoundRow, to: RoundPhaseName, values?: Partial<RoundRow>): RoundRow;
  /** The coordinator's closing path; `within` runs inside its transaction (after the version is stored). Returns why it must fail instead. */
  storeAggregate(aggregating: RoundRow, task: Task, delta: Float32Array, info: { metrics: ClientMetrics | null; within?: (tx: Db) => void }): string | undefined;
  /** Heartbeats at or after this are active. */
  activeSince(now: number): number;
  /** Buffered bytes (4 a value) from which a robust rule runs in a worker thread (the coordinator's `offThreadBytes`). */
  offThreadBytes: number;
  /** Runs a robust rule over `updates` in a worker thread, tracked (and terminated on stop) as the coordinator's. */
  aggregateInWorker(roundId: number, task: Task, updates: Float32Array[], weights: number[]): Promise<Float32Array>;
  /** True once the coordinator stopped: a worker's late result is dropped (the next start aggregates again). */
  stopped(): boolean;
  /** aggregating → failed, the next buffer opened from the same version. */
  failAggregating(aggregating: RoundRow, task: Task, reason: string): void;
  privacy(taskId: string): PrivacySpentState | undefined;
  publish(taskId: string): void;
  publishClosed(taskId: string, number: number): void;
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
  admit(task: Task, participantId: string, roundNumber: number): { round: RoundRow; admission: Extract<ReturnType<typeof admitAsyncUpdate>, { ok: true }> } {
    const { db } = this.host;
    const round = q.currentRound(db, task.id);
    if (!round) throw new DiscoApiError('WRONG_ROUND', `task "${task.id}" has no round (it is not a federated task)`);
    if (round.phase !== 'open') {
      const privacy = this.host.privacy(task.id);
      if (privacy?.exhausted) throw new DiscoApiError('ROUND_NOT_OPEN', budgetExhaustedMessage({ id: task.id }, privacy));
      throw new DiscoApiError('ROUND_NOT_OPEN', `the buffer of version ${round.baseVersion + 1} is ${round.phase} and takes no more updates; try again in a moment`);
    }
    const admission = admitAsyncUpdate({ taskId: task.id, round: roundNumber, latestVersion: round.baseVersion, settings: asyncSettings(task) });
    if (!admission.ok) throw new DiscoApiError(admission.code, admission.message);
    if (!allowsRepeatUpdates(task)) this.refuseDuplicate(task, round, { participantId, baseVersion: admission.baseVersion, checksum: NaN }, admission.version);
    return { round, admission };
  }

  /**
   * Checks an update completely ({@link admit}, then core's `checkUpdate` against its base version) and, when
   * it passes, stores it in the open buffer, bytes included, in one transaction; then applies the version rule.
   * Synchronous from the checks to the store, so that nothing interleaves; nothing is stored when refused.
   */
  submit(stored: StoredTask, participant: ParticipantRow, roundNumber: number, body: Uint8Array): AsyncSubmitted {
    const { task } = stored;
    const { round, admission } = this.admit(task, participant.id, roundNumber);
    const { delta, samples, metrics } = checkUpdate(body, {
      taskId: task.id,
      shapes: stored.shapes,
      round: round.number,
      baseVersion: admission.baseVersion,
      maxSamples: task.aggregation.maxSamplesPerUpdate,
    });
    // Read after checkUpdate, which refuses a malformed header.
    const checksum = readWeightsHeader(body).header.checksum;
    this.refuseDuplicate(task, round, { participantId: participant.id, baseVersion: admission.baseVersion, checksum }, admission.version);
    const now = this.host.now();
    const updated = this.host.db.transaction((tx) => {
      tx.insert(asyncUpdates)
        .values({
          roundId: round.id,
          participantId: participant.id,
          baseVersion: admission.baseVersion,
          checksum,
          staleness: admission.staleness,
          weight: admission.weight,
          samples,
          metrics,
          delta: Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength),
          bytes: body.byteLength,
          receivedAt: now,
        })
        .run();
      return tx
        .update(rounds)
        .set({ submitted: sql`${rounds.submitted} + 1`, samples: sql`${rounds.samples} + ${samples}` })
        .where(eq(rounds.id, round.id))
        .returning()
        .get();
    });
    this.host.publish(task.id);
    this.evaluate(updated, task);
    const after = q.currentRound(this.host.db, task.id);
    return { round: admission.version, submitted: after?.id === round.id ? after.submitted : 0, staleness: admission.staleness };
  }

  /** Applies core's `decideVersion` to the open buffer: aggregates it when full, or when every active participant is in it. */
  evaluate(round: RoundRow, task: Task): void {
    if (round.phase !== 'open' || round.submitted === 0) return;
    const decision = decideVersion({
      buffered: round.submitted,
      bufferSize: asyncSettings(task).bufferSize,
      pending: this.pendingCount(round),
      minParticipants: task.minParticipants,
      repeats: allowsRepeatUpdates(task),
    });
    if (decision.action === 'aggregate') this.aggregate(round, task);
  }

  /** Active participants of the task with no update in the buffer. */
  private pendingCount(round: RoundRow): number {
    const since = this.host.activeSince(this.host.now());
    return (
      this.host.db
        .select({ n: sql<number>`count(*)` })
        .from(participants)
        .where(
          and(
            eq(participants.taskId, round.taskId),
            isNull(participants.leftAt),
            gte(participants.lastHeartbeatAt, since),
            sql`NOT EXISTS (SELECT 1 FROM ${asyncUpdates} WHERE ${asyncUpdates.roundId} = ${round.id} AND ${asyncUpdates.participantId} = ${participants.id})`,
          ),
        )
        .get()?.n ?? 0
    );
  }

  /**
   * Core's `duplicateInBuffer` against this participant's updates in the buffer: a second one where the task
   * takes one per participant, or the same one again (a retried submission) anywhere.
   */
  private refuseDuplicate(task: Task, round: RoundRow, candidate: { participantId: string; baseVersion: number; checksum: number }, version: number): void {
    const own = this.host.db
      .select({ participantId: asyncUpdates.participantId, baseVersion: asyncUpdates.baseVersion, checksum: asyncUpdates.checksum })
      .from(asyncUpdates)
      .where(and(eq(asyncUpdates.roundId, round.id), eq(asyncUpdates.participantId, candidate.participantId)))
      .all();
    const refusal = duplicateInBuffer(task, own, candidate, version);
    if (refusal) throw new DiscoApiError('DUPLICATE_UPDATE', refusal);
  }

  /**
   * open → aggregating → closed: the buffer's updates through core's `createBufferAggregator` (each scaled by
   * its staleness weight, through the task's clipping, strategy and noise), then the coordinator's closing
   * path, whose transaction also clears the updates' bytes. A buffer whose aggregate is refused (not finite)
   * fails and its updates are dropped with it; the next buffer opens from the same version.
   */
  private aggregate(round: RoundRow, task: Task): void {
    const { db } = this.host;
    const aggregating = round.phase === 'aggregating' ? round : this.host.transition(db, round, 'aggregating');
    this.host.publish(task.id);
    const buffer = db
      .select()
      .from(asyncUpdates)
      .where(and(eq(asyncUpdates.roundId, round.id), isNotNull(asyncUpdates.delta)))
      .orderBy(asc(asyncUpdates.id))
      .all();
    let aggregator: ReturnType<typeof createBufferAggregator>;
    try {
      if (buffer.length === 0) throw new Error('its buffer is empty');
      aggregator = createBufferAggregator(task, (buffer[0].delta as Buffer).byteLength / 4);
      for (const row of buffer) {
        const bytes = row.delta as Buffer;
        // Copied: a Buffer read from SQLite need not be 4-byte aligned.
        aggregator.add(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), row.samples, row.weight);
      }
    } catch (error) {
      return this.finish(aggregating, task, buffer, undefined, () => {
        throw error;
      });
    }
    const held = aggregator.buffered;
    if (held && held.count * held.size * 4 >= this.host.offThreadBytes) {
      // A robust rule over large updates: in a worker thread, as synchronous rounds do; the buffer stays
      // `aggregating` meanwhile (the client retries ROUND_NOT_OPEN), its rows keep their bytes until the version.
      const { updates, weights } = held.take();
      this.host.aggregateInWorker(round.id, task, updates, weights).then(
        (delta) => this.finish(aggregating, task, buffer, aggregator, () => delta),
        (error: Error) =>
          this.finish(aggregating, task, buffer, aggregator, () => {
            throw error;
          }),
      );
      return;
    }
    this.finish(aggregating, task, buffer, aggregator, () => aggregator.result());
  }

  /** Stores the version `compute` gives (through the coordinator's closing path), or fails the buffer with why. */
  private finish(
    aggregating: RoundRow,
    task: Task,
    buffer: (typeof asyncUpdates.$inferSelect)[],
    aggregator: { clipped: number } | undefined,
    compute: () => Float32Array,
  ): void {
    const { db } = this.host;
    const round = aggregating;
    if (this.host.stopped()) return;
    // After a worker, the task may have been deleted meanwhile: then there is nothing to close.
    if (q.roundByNumber(db, task.id, round.number)?.phase !== 'aggregating') return;
    const clearBuffer = (tx: Db) => tx.update(asyncUpdates).set({ delta: null }).where(eq(asyncUpdates.roundId, round.id)).run();
    let problem: string | undefined;
    try {
      const delta = compute();
      const metrics = weightedMetrics(buffer.map((row) => ({ samples: row.samples, metrics: (row.metrics as ClientMetrics | null) ?? null })));
      const contributors = new Set(buffer.map((row) => row.participantId)).size;
      problem = this.host.storeAggregate(aggregating, task, delta, {
        metrics,
        within: (tx) => {
          clearBuffer(tx);
          // A version's participants are its contributors; its clipping count is its buffer's.
          tx.update(rounds).set({ participants: contributors, clipped: aggregator?.clipped ?? 0 }).where(eq(rounds.id, round.id)).run();
        },
      });
    } catch (error) {
      console.error(`disco: aggregation of version ${round.baseVersion + 1} of ${task.id} failed`, error);
      problem = `aggregation failed: ${(error as Error).message}`;
    }
    if (problem) {
      const reason = problem;
      db.transaction((tx) => {
        clearBuffer(tx);
        this.host.failAggregating(aggregating, task, reason);
      });
    } else this.host.publishClosed(task.id, round.number);
  }

  /**
   * After a restart: a buffer caught `aggregating` is aggregated again from its stored updates; an `open`
   * buffer carries on (aggregated now if the rule says so). Returns the ids of the asynchronous rounds it took
   * care of, which the coordinator leaves alone.
   */
  recover(unfinished: RoundRow[]): Set<number> {
    const handled = new Set<number>();
    for (const round of unfinished) {
      const task = loadTask(this.host.db, round.taskId).task;
      if (!isAsync(task)) continue;
      handled.add(round.id);
      if (round.phase === 'aggregating') this.aggregate(round, task);
      else if (round.submitted >= asyncSettings(task).bufferSize) this.aggregate(round, task);
    }
    return handled;
  }

  /** The contributors of each of the given rounds (an asynchronous task's versions), in the order they arrived. */
  contributions(roundIds: number[]): Map<number, VersionContribution[]> {
    const byRound = new Map<number, VersionContribution[]>();
    if (roundIds.length === 0) return byRound;
    const rows = this.host.db
      .select({ roundId: asyncUpdates.roundId, participantId: asyncUpdates.participantId, staleness: asyncUpdates.staleness, weight: asyncUpdates.weight, samples: asyncUpdates.samples })
      .from(asyncUpdates)
      .where(inArray(asyncUpdates.roundId, roundIds))
      .orderBy(asc(asyncUpdates.id))
      .all();
    for (const { roundId, ...contribution } of rows) {
      const list = byRound.get(roundId) ?? [];
      list.push(contribution);
      byRound.set(roundId, list);
    }
    return byRound;
  }
}
