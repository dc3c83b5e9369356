import { BufferedAggregator } from './buffered.js';
import { AggregationError, type Strategy } from './strategy.js';

/** Iterations of centered clipping when none are given (each moves the centre by at most the radius). */
export const DEFAULT_CLIPPING_ITERATIONS = 3;

export interface CenteredClippingOptions {
  /**
   * The clipping radius τ (L2). Unset: in each iteration, the median of the distances ‖xᵢ − v‖, so that
   * the nearer half of the updates pass unclipped whatever the scale of the model's updates (an
   * adaptation of ours; the paper fixes τ).
   */
  radius?: number;
  /** The number of iterations L (default {@link DEFAULT_CLIPPING_ITERATIONS}). */
  iterations?: number;
  /** The starting centre v₀ (default 0: no update; a server could pass the previous round's aggregate). */
  start?: Float32Array;
}

/**
 * Centered clipping (Karimireddy, He and Jaggi, 2021): from a centre v (default 0), L times
 * v ← v + (1/n) Σᵢ clip(xᵢ − v, τ), where clip(z, τ) = z · min(1, τ / ‖z‖). An update far from the centre
 * moves it by at most τ / n per iteration, however far it is; updates within τ of the centre count fully.
 * Unweighted. Tolerates a fraction of Byzantine updates below one half when τ is of the order of the honest
 * updates' spread.
 *
 * @example
 * ```ts
 * centeredClipping([f32(1), f32(2), f32(100)], { radius: 2, iterations: 1 }); // [(1 + 2 + 2) / 3] = [1.667]
 * ```
 */
export function centeredClipping(updates: readonly Float32Array[], options: CenteredClippingOptions = {}): Float32Array {
  const n = updates.length;
  if (n === 0) throw new AggregationError('no update to aggregate');
  const { radius, iterations = DEFAULT_CLIPPING_ITERATIONS, start } = options;
  if (radius !== undefined && !(radius > 0 && Number.isFinite(radius)))
    throw new AggregationError(`centered clipping needs a positive clipping radius, got ${radius}`);
  if (!(Number.isInteger(iterations) && iterations >= 1))
    throw new AggregationError(`centered clipping needs a whole number of iterations of at least 1, got ${iterations}`);
  const size = updates[0].length;
  if (start && start.length !== size) throw new AggregationError(`start has ${start.length} values, expected ${size}`);
  const centre = start ? new Float64Array(start) : new Float64Array(size);
  const distances = new Float64Array(n);
  const step = new Float64Array(size);
  for (let l = 0; l < iterations; l++) {
    updates.forEach((u, k) => {
      let d = 0;
      for (let i = 0; i < size; i++) d += (u[i] - centre[i]) ** 2;
      distances[k] = Math.sqrt(d);
    });
    const tau = radius ?? middle(distances);
    step.fill(0);
    updates.forEach((u, k) => {
      const scale = distances[k] > tau ? tau / distances[k] : 1;
      for (let i = 0; i < size; i++) step[i] += scale * (u[i] - centre[i]);
    });
    for (let i = 0; i < size; i++) centre[i] += step[i] / n;
  }
  return new Float32Array(centre);
}

/** The median of `values` (the mean of the two middle ones for an even count); leaves `values` as it was. */
function middle(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Centered clipping from 0 with radius `radius` (unset: the median distance, see
 * {@link CenteredClippingOptions.radius}) and {@link DEFAULT_CLIPPING_ITERATIONS} iterations. Starting from 0
 * keeps the strategy stateless between rounds; with a fixed radius each round's aggregate is at most L·τ
 * from 0.
 */
export function centeredClippingStrategy(radius?: number, iterations = DEFAULT_CLIPPING_ITERATIONS): Strategy {
  if (radius !== undefined && !(radius > 0 && Number.isFinite(radius)))
    throw new AggregationError(`centered clipping needs a positive clipping radius, got ${radius}`);
  return {
    name: 'centered-clipping',
    streaming: false,
    createAggregator: (size) => new BufferedAggregator(size, (updates) => centeredClipping(updates, { radius, iterations })),
  };
}
