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
}

/** An update that passed every check. */
export interface CheckedUpdate {
  delta: Float32Array;
  samples: number;
  metrics: ClientMetrics;
}

/**
 * Checks an encoded update completely (header, task, shapes against the task's model, base version,
 * length, checksum, finite values, samples, metrics) in the order the server refuses them
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
    delta = decodeWeights(body).weights.values;
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
  return { delta, samples, metrics };
}
