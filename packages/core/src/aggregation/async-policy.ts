/**
 * The rules of asynchronous (FedBuff) tasks, decision 0013: which update a version's buffer accepts, and when
 * the buffer closes into a new version. Pure, like `round-policy.ts`: the server's async rounds service and
 * the in-memory federation apply them alike; refusals are data (a code of the API's vocabulary and a message),
 * which the caller throws as a `DiscoApiError`.
 *
 * ```
 *   update for round r (trained from version r − 1), latest version L:
 *     r − 1 > L                         ──▶ WRONG_ROUND (that version does not exist yet)
 *     staleness L − (r − 1) > maxStaleness ──▶ STALE_UPDATE, naming version L
 *     else accepted into the buffer of version L + 1 with weight s(L − (r − 1))
 *   buffer holds K updates, or (one update per participant) every active participant has one in it
 *     and it holds at least min(minParticipants, K) ──▶ aggregate version L + 1
 * ```
 */
import type { Task } from '../task/schema.js';
import { stalenessOf, stalenessWeight, type AsyncSettings } from './staleness.js';

/** What {@link admitAsyncUpdate} needs: the round the update names and the newest published version. */
export interface AsyncAdmissionInput {
  taskId: string;
  /** The round the participant submits for: its base version + 1 (as in synchronous rounds). */
  round: number;
  /** The newest published version (the buffer being filled is `latestVersion + 1`). */
  latestVersion: number;
  settings: Pick<AsyncSettings, 'maxStaleness' | 'stalenessWeighting' | 'stalenessExponent'>;
}

export type AsyncAdmission =
  /** Into the buffer of `version`, trained from `baseVersion`, with its staleness and weight. */
  | { ok: true; version: number; baseVersion: number; staleness: number; weight: number }
  | { ok: false; code: 'WRONG_ROUND' | 'STALE_UPDATE'; message: string };

/**
 * Whether the open buffer takes an update sent for `round` (trained from version `round − 1`), and with
 * which staleness and weight; checked before the update's bytes (whose header `modelVersion` must then
 * equal `baseVersion`: `checkUpdate`'s `STALE_MODEL`).
 *
 * @example
 * ```ts
 * admitAsyncUpdate({ taskId: 't', round: 8, latestVersion: 10, settings: { maxStaleness: 10, stalenessWeighting: 'polynomial', stalenessExponent: 0.5 } });
 * // { ok: true, version: 11, baseVersion: 7, staleness: 3, weight: 0.5 }
 * ```
 */
export function admitAsyncUpdate(input: AsyncAdmissionInput): AsyncAdmission {
  const { taskId, round, latestVersion, settings } = input;
  const version = latestVersion + 1;
  if (!Number.isInteger(round) || round < 1 || round > version)
    return {
      ok: false,
      code: 'WRONG_ROUND',
      message: `round ${round} would train from model version ${round - 1}, which does not exist; the current version is ${latestVersion} (send round = the update's base version + 1, at most ${version})`,
    };
  const baseVersion = round - 1;
  const staleness = stalenessOf(baseVersion, latestVersion);
  if (staleness > settings.maxStaleness)
    return {
      ok: false,
      code: 'STALE_UPDATE',
      message:
        `the update was trained from model version ${baseVersion}, ${staleness} versions behind the current version ${latestVersion}; ` +
        `task "${taskId}" accepts updates at most ${settings.maxStaleness} versions old: download version ${latestVersion} and train again`,
    };
  return { ok: true, version, baseVersion, staleness, weight: stalenessWeight(staleness, settings) };
}

/**
 * Whether one participant may have several updates in the same version's buffer (FedBuff as published: a
 * fast client trains again and submits again). Only for plain FedAvg without noise, where it changes no
 * guarantee: FedAvg bounds nothing per participant anyway (each update's weight is bounded by
 * `maxSamplesPerUpdate`). Under noise, a version is one step of the accountant with sensitivity C only if each
 * participant adds at most one clipped update to it; a robust rule's f counts participants, so a participant
 * filling the buffer would own the version. There a second update for the same buffer is refused
 * ({@link duplicateInBufferMessage}).
 */
export function allowsRepeatUpdates(task: Pick<Task, 'aggregation' | 'privacy'>): boolean {
  return task.aggregation.strategy === 'fedavg' && !task.aggregation.bucketing && !((task.privacy.noiseMultiplier ?? 0) > 0);
}

/** The `DUPLICATE_UPDATE` refusal of a second update from a participant for the buffer of `version`. */
export function duplicateInBufferMessage(task: Pick<Task, 'aggregation' | 'privacy'>, version: number): string {
  const why = (task.privacy.noiseMultiplier ?? 0) > 0 ? 'differential privacy accounts each version with one update per participant' : `"${task.aggregation.strategy}" counts each participant once`;
  return `this participant already has an update in the buffer of model version ${version}: ${why}; train from version ${version} once it is published`;
}

/** What identifies an update in a buffer: who sent it, from which version, and its payload's CRC-32 (codec header `checksum`). */
export interface BufferedUpdateKey {
  participantId: string;
  baseVersion: number;
  checksum: number;
}

/**
 * Why `candidate` may not join a buffer that holds `buffered` (the `DUPLICATE_UPDATE` message), or undefined when
 * it may: a second update from the same participant where {@link allowsRepeatUpdates} is false
 * ({@link duplicateInBufferMessage}); and, even where repeats are allowed, the same participant's same update
 * again (same base version and checksum): a submission retried after its answer was lost counts once. Two
 * trainings never give the same bytes, so a genuine repeat is never refused.
 */
export function duplicateInBuffer(task: Pick<Task, 'aggregation' | 'privacy'>, buffered: readonly BufferedUpdateKey[], candidate: BufferedUpdateKey, version: number): string | undefined {
  const own = buffered.filter((b) => b.participantId === candidate.participantId);
  if (own.length === 0) return undefined;
  if (!allowsRepeatUpdates(task)) return duplicateInBufferMessage(task, version);
  if (own.some((b) => b.baseVersion === candidate.baseVersion && b.checksum === candidate.checksum))
    return `this update (trained from model version ${candidate.baseVersion}, checksum ${candidate.checksum.toString(16).padStart(8, '0')}) is already in the buffer of model version ${version}: a retried submission counts once`;
  return undefined;
}

/** What {@link decideVersion} reads: counts only. */
export interface VersionPolicyInput {
  /** Updates in the open buffer. */
  buffered: number;
  /** K. */
  bufferSize: number;
  /** Active participants (recent heartbeat, not left) with no update in the buffer yet. */
  pending: number;
  /** The task's `minParticipants`. */
  minParticipants: number;
  /** {@link allowsRepeatUpdates}: a participant may add several updates to one buffer. */
  repeats: boolean;
}

export type VersionDecision = { action: 'wait' } | { action: 'aggregate'; reason: 'full' | 'everyone' };

/**
 * When the open buffer becomes a version: when it holds K updates; or, when each participant adds at most one
 * update (`repeats` false), as soon as every active participant has one in it and it holds at least
 * min(minParticipants, K): nobody is left who could fill it, so waiting would stall everyone (a participant
 * that leaves never stalls the others). With repeats allowed the active participants fill it themselves.
 * There is no deadline: an asynchronous task waits for updates, never for a participant.
 *
 * @example
 * ```ts
 * decideVersion({ buffered: 2, bufferSize: 4, pending: 0, minParticipants: 2, repeats: false }); // { action: 'aggregate', reason: 'everyone' }
 * ```
 */
export function decideVersion(input: VersionPolicyInput): VersionDecision {
  const { buffered, bufferSize, pending, minParticipants, repeats } = input;
  if (buffered >= bufferSize) return { action: 'aggregate', reason: 'full' };
  if (!repeats && pending === 0 && buffered > 0 && buffered >= Math.min(minParticipants, bufferSize)) return { action: 'aggregate', reason: 'everyone' };
  return { action: 'wait' };
}
