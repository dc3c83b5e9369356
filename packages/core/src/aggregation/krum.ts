import { BufferedAggregator } from './buffered.js';
import { AggregationError, type Strategy } from './strategy.js';

/**
 * Krum (Blanchard et al., 2017): picks the update whose `n − f − 2` nearest neighbours are closest (sum of
 * squared L2 distances), tolerating `f` Byzantine clients.
 *
 * The rule, for `n` updates:
 * - `n ≥ f + 3` (Krum's condition): score = the sum of the squared distances to the `n − f − 2` nearest
 *   other updates; the lowest score wins.
 * - `n < f + 3` (too few updates for Krum's guarantee): the fallback scores each update by the sum of the
 *   squared distances to all `n − 1` others (the medoid), so that a few identical outliers, each other's
 *   nearest neighbour, cannot win as they would with a single neighbour.
 * - Equal scores: the update added first wins (a single update is returned as it is).
 */
export function krum(updates: readonly Float32Array[], f: number): Float32Array {
  const scores = krumScores(updates, f);
  let best = 0;
  for (let a = 1; a < scores.length; a++) if (scores[a] < scores[best]) best = a;
  return Float32Array.from(updates[best]);
}

/**
 * Krum's score of each update (lower is better), by the rule of {@link krum}: the sum of the squared L2
 * distances to its `n − f − 2` nearest other updates, or to all `n − 1` others when `n < f + 3`.
 * Shared by Krum and multi-Krum.
 */
export function krumScores(updates: readonly Float32Array[], f: number): Float64Array {
  const n = updates.length;
  if (n === 0) throw new AggregationError('no update to aggregate');
  if (!(Number.isInteger(f) && f >= 0)) throw new AggregationError(`krum needs a whole number of Byzantine clients, got ${f}`);
  const distances = Array.from({ length: n }, () => new Float64Array(n));
  for (let a = 0; a < n; a++)
    for (let b = a + 1; b < n; b++) {
      const ua = updates[a];
      const ub = updates[b];
      let d = 0;
      for (let i = 0; i < ua.length; i++) {
        const diff = ua[i] - ub[i];
        d += diff * diff;
      }
      distances[a][b] = distances[b][a] = d;
    }
  const neighbours = n >= f + 3 ? n - f - 2 : n - 1;
  const scores = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    const others = distances[a].filter((_, b) => b !== a).sort();
    let score = 0;
    for (let k = 0; k < neighbours; k++) score += others[k];
    scores[a] = score;
  }
  return scores;
}

export function krumStrategy(f = 0): Strategy {
  return { name: 'krum', streaming: false, createAggregator: (size) => new BufferedAggregator(size, (updates) => krum(updates, f)) };
}
