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
  return updates[best].slice();
}

/** Values per block of the pairwise distances: 100 updates' blocks (400 kB) stay in a core's cache. */
const DISTANCE_BLOCK = 1024;

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
  // Block by coordinates so that every pair reads a block the cache already holds: the updates are read
  // from memory once, not n − 1 times each (8× faster with 100 updates of 1M values).
  const size = updates[0].length;
  for (let start = 0; start < size; start += DISTANCE_BLOCK) {
    const end = Math.min(size, start + DISTANCE_BLOCK);
    for (let a = 0; a < n; a++) {
      const ua = updates[a];
      for (let b = a + 1; b < n; b++) {
        distances[a][b] += squaredDistance(ua, updates[b], start, end);
      }
    }
  }
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) distances[b][a] = distances[a][b];
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

/** Σ (a[i] − b[i])² over [start, end), in four running sums so that the additions do not wait on each other. */
function squaredDistance(a: Float32Array, b: Float32Array, start: number, end: number): number {
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  let i = start;
  for (; i + 3 < end; i += 4) {
    const x0 = a[i] - b[i];
    const x1 = a[i + 1] - b[i + 1];
    const x2 = a[i + 2] - b[i + 2];
    const x3 = a[i + 3] - b[i + 3];
    d0 += x0 * x0;
    d1 += x1 * x1;
    d2 += x2 * x2;
    d3 += x3 * x3;
  }
  for (; i < end; i++) d0 += (a[i] - b[i]) ** 2;
  return d0 + d1 + d2 + d3;
}
