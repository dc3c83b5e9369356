import { decodeWeights, describeShapeMismatch, readWeightsHeader, WeightsFormatError, type FlatWeights } from '@disco/core';
import type { Db } from '../db/client.js';
import { DiscoApiError, METRIC_KEYS, type ClientMetrics } from '@disco/core';
import { authenticate, type ParticipantRow } from './participants.js';
import type { RoundCoordinator, RoundRow } from './rounds/coordinator.js';
import { loadTask, type StoredTask } from './tasks.js';

/**
 * The largest update body accepted for a task: its float32 weights (4 bytes a parameter), plus the codec
 * header (shapes, int8 ranges, meta) and some slack.
 */
export function maxUpdateBytes(stored: Pick<StoredTask, 'parameterCount' | 'shapes'>): number {
  return stored.parameterCount * 4 + JSON.stringify(stored.shapes).length * 2 + stored.shapes.length * 64 + 64 * 1024;
}

/** Checks before the body is read: task, token, scheme, round. Cheap refusals of what will fail anyway. */
export function precheckUpdate(
  db: Db,
  coordinator: RoundCoordinator,
  input: { taskId: string; round: number; token: string | null },
): { stored: StoredTask; participant: ParticipantRow; round: RoundRow } {
  const stored = loadTask(db, input.taskId);
  const participant = authenticate(db, input.token, input.taskId);
  if (stored.task.scheme !== 'federated')
    throw new DiscoApiError('SCHEME_MISMATCH', `task "${input.taskId}" is ${stored.task.scheme}: the server takes no weights for it`);
  const round = coordinator.requireOpenRound(input.taskId, input.round);
  if (coordinator.hasSubmitted(round.id, participant.id))
    throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${round.number}`);
  return { stored, participant, round };
}

/**
 * Checks an update body completely (header, task, shapes against the task's model, base version, length,
 * checksum, finite values, samples) and, only when all pass, records it in the round. Synchronous: nothing
 * else runs between the checks and the recording. Throws an {@link DiscoApiError} naming the problem otherwise,
 * with nothing stored.
 */
export function submitUpdate(
  db: Db,
  coordinator: RoundCoordinator,
  input: { taskId: string; round: number; token: string | null; body: Uint8Array },
): { round: number; submitted: number } {
  // Re-run the prechecks: the round may have closed while the body was arriving.
  const { stored, participant, round } = precheckUpdate(db, coordinator, input);
  let header;
  try {
    header = readWeightsHeader(input.body).header;
  } catch (error) {
    throw new DiscoApiError('MALFORMED_WEIGHTS', (error as Error).message);
  }
  if (header.taskId !== input.taskId) throw new DiscoApiError('WRONG_TASK', `the update is for task "${header.taskId}", not "${input.taskId}"`);
  const mismatch = describeShapeMismatch(stored.shapes, header.shapes);
  if (mismatch) throw new DiscoApiError('SHAPE_MISMATCH', `the update does not fit the task's model: ${mismatch}`);
  if (header.modelVersion !== round.baseVersion)
    throw new DiscoApiError(
      'STALE_MODEL',
      `the update was computed from model version ${header.modelVersion}, but round ${round.number} trains from version ${round.baseVersion}: download it and train again`,
    );
  let weights: FlatWeights;
  try {
    weights = decodeWeights(input.body).weights;
  } catch (error) {
    if (error instanceof WeightsFormatError && /non-finite/.test(error.message)) throw new DiscoApiError('NON_FINITE', error.message);
    throw new DiscoApiError('MALFORMED_WEIGHTS', (error as Error).message);
  }
  const meta = header.meta ?? {};
  const samples = meta.samples;
  if (typeof samples !== 'number' || !Number.isFinite(samples) || samples <= 0)
    throw new DiscoApiError('BAD_META', `the update header's meta.samples must be a positive number of training examples, got ${JSON.stringify(samples ?? null)}`);
  const metrics: ClientMetrics = {};
  for (const key of METRIC_KEYS) {
    const value = meta[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new DiscoApiError('BAD_META', `the update header's meta.${key} must be a finite number`);
    metrics[key] = value;
  }
  const after = coordinator.submit(round, participant.id, weights.values, samples, metrics, input.body.byteLength);
  return { round: round.number, submitted: after.submitted };
}
