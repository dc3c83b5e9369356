import { BufferedAggregator } from './buffered.js';
import { krumScores } from './krum.js';
import { AggregationError, type Strategy } from './strategy.js';

/**
 * Multi-Krum (Blanchard et al., 2017, section 5): the unweighted mean of the `m` updates with the best (lowest)
 * Krum scores ({@link krumScores}: each update's summed squared distance to its `n − f − 2` nearest others),
 * scored once, not re-scored after each pick. `m = 1` is Krum; `m = n` is the plain mean. Equal scores: the
 * update added first is picked first. The default `m = n − f` (at least 1) averages as many updates as can be
 * honest, which keeps most of FedAvg's variance reduction.
 *
 * @example
 * ```ts
 * multiKrum([f32(0), f32(1), f32(2), f32(100)], 1); // m = 3: the mean of 0, 1 and 2, so [1]
 * ```
 */
export function multiKrum(updates: readonly Float32Array[], f: number, m = Math.max(1, updates.length - f)): Float32Array {
  const scores = krumScores(updates, f);
  if (!(Number.isInteger(m) && m >= 1 && m <= updates.length))
    throw new AggregationError(`multi-krum averages a whole number of updates between 1 and ${updates.length}, got ${m}`);
  // A stable sort of the indices by score: ties keep the order of arrival.
  const chosen = Array.from(scores.keys())
    .sort((a, b) => scores[a] - scores[b] || a - b)
    .slice(0, m);
  const sum = new Float64Array(updates[0].length);
  for (const k of chosen) {
    const u = updates[k];
    for (let i = 0; i < sum.length; i++) sum[i] += u[i];
  }
  const out = new Float32Array(sum.length);
  for (let i = 0; i < out.length; i++) out[i] = sum[i] / m;
  return out;
}

/** Multi-Krum tolerating `f` Byzantine clients, averaging the `n − f` best-scored of the `n` updates of a round. */
export function multiKrumStrategy(f = 0): Strategy {
  if (!(Number.isInteger(f) && f >= 0)) throw new AggregationError(`multi-krum needs a whole number of Byzantine clients, got ${f}`);
  return { name: 'multi-krum', streaming: false, createAggregator: (size) => new BufferedAggregator(size, (updates) => multiKrum(updates, f)) };
}
