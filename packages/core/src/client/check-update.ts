import { METRIC_KEYS, type ClientMetrics } from '../aggregation/metrics.js';
import { decodeWeights, readWeightsHeader, WeightsFormatError } from '../weights/codec.js';
import { describeShapeMismatch, type WeightShape } from '../weights/flat.js';
import { DiscoApiError } from './api-errors.js';

/** What an update is checked against: the task, its model's shapes, and the round it is sent for. */
export interface UpdateExpectation {
  taskId: string;
  shapes: readonly WeightShape[];
  /** The round's number, for messages. */
  round: number;
  /** The model version the round trains from: the update must be computed from it. */
  baseVersion: number;
  /** The task's `aggregation.maxSamplesPerUpdate`: a larger `meta.samples` claim is refused. Unset: no bound. */
  maxSamples?: number;
}

/** An update that passed every check. */
export interface CheckedUpdate {
  /** The update's values; for a float32 update a view of the body it was read from (no copy): add or copy it before that body is reused. */
  delta: Float32Array;
  samples: number;
  metrics: ClientMetrics;
}

/**
 * Checks an encoded update completely (header, task, shapes against the task's model, base version,
 * length, checksum, finite values, samples and their bound, metrics) in the order the server refuses them
 * (decision 0002), throwing a {@link DiscoApiError} that names the first problem. The server and the
 * in-memory federation both use it, so both refuse alike.
 */
export function checkUpdate(body: Uint8Array, expected: UpdateExpectation): CheckedUpdate {
  let header;
  try {
    header = readWeightsHeader(body).header;
  } catch (error) {
    throw new DiscoApiError('MALFORMED_WEIGHTS', (error as Error).message);
  }
  if (header.taskId !== expected.taskId) throw new DiscoApiError('WRONG_TASK', `the update is for task "${header.taskId}", not "${expected.taskId}"`);
  const mismatch = describeShapeMismatch(expected.shapes, header.shapes);
  if (mismatch) throw new DiscoApiError('SHAPE_MISMATCH', `the update does not fit the task's model: ${mismatch}`);
  if (header.modelVersion !== expected.baseVersion)
    throw new DiscoApiError(
      'STALE_MODEL',
      `the update was computed from model version ${header.modelVersion}, but round ${expected.round} trains from version ${expected.baseVersion}: download it and train again`,
    );
  let delta: Float32Array;
  try {
    delta = decodeWeights(body, { view: true }).weights.values;
  } catch (error) {
    if (error instanceof WeightsFormatError && /non-finite/.test(error.message)) throw new DiscoApiError('NON_FINITE', error.message);
    throw new DiscoApiError('MALFORMED_WEIGHTS', (error as Error).message);
  }
  const meta = header.meta ?? {};
  const samples = meta.samples;
  if (typeof samples !== 'number' || !Number.isFinite(samples) || samples <= 0)
    throw new DiscoApiError('BAD_META', `the update header's meta.samples must be a positive number of training examples, got ${JSON.stringify(samples ?? null)}`);
  // The bound on a participant's weight (issue 10, bounded influence): an over-claim is refused, not
  // clamped, since an honest client never makes one (it clamps its own claim, see `claimedSamples`).
  if (expected.maxSamples !== undefined && samples > expected.maxSamples)
    throw new DiscoApiError('BAD_META', `the update claims ${samples} training examples; task "${expected.taskId}" allows at most ${expected.maxSamples} per update`);
  const metrics: ClientMetrics = {};
  for (const key of METRIC_KEYS) {
    const value = meta[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new DiscoApiError('BAD_META', `the update header's meta.${key} must be a finite number`);
    metrics[key] = value;
  }
  return { delta, samples, metrics };
}

/**
 * The number of training examples an honest client claims for an update (`meta.samples`): its own count,
 * clamped to the task's `aggregation.maxSamplesPerUpdate`, so that a client with more data than the
 * bound weighs as much as the bound allows instead of being refused.
 *
 * @example
 * ```ts
 * claimedSamples({ aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 1309 } }, 5000); // 1309
 * ```
 */
export function claimedSamples(task: { aggregation: { maxSamplesPerUpdate?: number } }, count: number): number {
  const bound = task.aggregation.maxSamplesPerUpdate;
  return bound === undefined ? count : Math.min(count, bound);
}

/**
 * Why a new global model must not be stored, or `undefined` when it may: the check the server and the
 * in-memory federation run on every aggregate before it becomes the next version. A non-finite value
 * (claims or updates so large that their weighted sum overflows) would be served to every participant
 * and fail every later round, so the round fails instead and the previous version stays current.
 *
 * @example
 * ```ts
 * aggregateProblem(Float32Array.of(0.5, Infinity, NaN));
 * // 'the aggregate is not finite (2 of 3 values are infinite or NaN): the model stays at its previous version'
 * ```
 */
export function aggregateProblem(values: Float32Array): string | undefined {
  let bad = 0;
  for (const value of values) if (!Number.isFinite(value)) bad++;
  if (bad === 0) return undefined;
  return `the aggregate is not finite (${bad} of ${values.length} values are infinite or NaN): the model stays at its previous version`;
}
