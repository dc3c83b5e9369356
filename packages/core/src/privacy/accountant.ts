/**
 * A Rényi-DP accountant for client-level DP-FedAvg: each round is one step of the Poisson-subsampled Gaussian
 * mechanism (`rdp.ts`); RDP composes by addition at every order; the total is converted to (ε, δ) at the
 * order that gives the smallest ε.
 *
 * Conversions (`conversion` option):
 * - `'classic'` (the default): ε = RDP(α) + log(1/δ)/(α − 1) (Mironov 2017, Proposition 3). The figure the
 *   literature usually quotes (TensorFlow Privacy's published example: ε ≈ 3.01).
 * - `'balle2020'`: ε = RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1) (Balle et al. 2020),
 *   always at least as tight (≈ 2.60 for the same example).
 */
import { subsampledGaussianRdp } from './rdp.js';

/**
 * The RDP orders evaluated by default: TensorFlow Privacy's long-standing list (1.25 … 4.5, every integer from
 * 5 to 63, then 128, 256, 512), with which its published example gives ε ≈ 3.01.
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
  ...Array.from({ length: 59 }, (_, i) => 5 + i),
  128, 256, 512,
]);

/** How RDP is converted to (ε, δ): see the module's notes. */
export type RdpConversion = 'classic' | 'balle2020';

/** The (ε, δ) spent, and the RDP order at which ε is smallest (null when ε is 0 or ∞). */
export interface PrivacySpent {
  epsilon: number;
  delta: number;
  order: number | null;
}

/** A privacy budget: training may spend at most ε at this δ. */
export interface PrivacyBudget {
  epsilon: number;
  delta: number;
}

/** `count` consecutive steps (rounds) at sampling rate `q` and noise multiplier `z`. */
export interface MechanismSteps {
  q: number;
  z: number;
  count: number;
}

/** An accountant's serializable state (plain JSON), to store with the rounds and restore with {@link Accountant.fromJSON}. */
export interface AccountantState {
  version: 1;
  orders: number[];
  conversion: RdpConversion;
  history: MechanismSteps[];
}

/**
 * The smallest ε over the orders for the total RDP `rdp[i]` at `orders[i]`, at the given δ. Nothing spent (all
 * RDP zero) gives ε = 0.
 *
 * @example
 * // order 2: 0.5 + log(1e5)/1 ≈ 12.01; order 4: 1 + log(1e5)/3 ≈ 4.84, the smaller
 * rdpToEpsilon([0.5, 1], [2, 4], 1e-5); // { epsilon: 4.837…, delta: 1e-5, order: 4 }
 */
export function rdpToEpsilon(rdp: readonly number[], orders: readonly number[], delta: number, conversion: RdpConversion = 'classic'): PrivacySpent {
  checkDelta(delta);
  if (rdp.length !== orders.length) throw new RangeError(`${rdp.length} RDP values for ${orders.length} orders`);
  if (rdp.every((value) => value === 0)) return { epsilon: 0, delta, order: null };
  let best: PrivacySpent = { epsilon: Infinity, delta, order: null };
  orders.forEach((order, i) => {
    const epsilon =
      conversion === 'classic'
        ? rdp[i] + Math.log(1 / delta) / (order - 1)
        : rdp[i] + Math.log1p(-1 / order) - (Math.log(delta) + Math.log(order)) / (order - 1);
    if (epsilon < best.epsilon) best = { epsilon: Math.max(0, epsilon), delta, order };
  });
  return best;
}

/** What {@link computeEpsilon} needs. */
export interface EpsilonQuery {
  /** Sampling rate: the probability that a client takes part in a round (1: every client every round). */
  q: number;
  /** Noise multiplier: the noise's standard deviation over the clipping norm. */
  z: number;
  /** Rounds (steps of the mechanism). */
  steps: number;
  delta: number;
  orders?: readonly number[];
  conversion?: RdpConversion;
}

/**
 * (ε, δ) after `steps` rounds of the Poisson-subsampled Gaussian mechanism, in one call.
 *
 * @example
 * computeEpsilon({ q: 256 / 60000, z: 1.1, steps: 14063, delta: 1e-5 }); // { epsilon: ≈ 3.01, delta: 1e-5, order: 9 }
 */
export function computeEpsilon({ q, z, steps, delta, orders = DEFAULT_ORDERS, conversion = 'classic' }: EpsilonQuery): PrivacySpent {
  return new Accountant({ orders, conversion }).step(q, z, steps).spent(delta);
}

/**
 * Tracks the privacy spent by a training task round after round, and says when the next round would exceed a
 * budget. Consecutive steps with the same (q, z) are merged, so the state stays small however long training runs.
 *
 * @example
 * const accountant = new Accountant();
 * accountant.step(0.1, 1.0);                      // one round: each client sampled with probability 0.1, z = 1
 * accountant.spent(1e-5);                         // { epsilon, delta: 1e-5, order }
 * if (accountant.wouldExceed({ epsilon: 8, delta: 1e-5 }, 0.1, 1.0)) stopTraining();
 * const saved = JSON.stringify(accountant);       // AccountantState
 * const restored = Accountant.fromJSON(JSON.parse(saved));
 */
export class Accountant {
  /** The RDP orders evaluated. */
  readonly orders: readonly number[];
  /** How RDP is converted to (ε, δ). */
  readonly conversion: RdpConversion;
  readonly #history: MechanismSteps[] = [];
  readonly #perStep = new Map<string, number[]>();
  #rdp: number[];

  constructor(options: { orders?: readonly number[]; conversion?: RdpConversion; history?: readonly MechanismSteps[] } = {}) {
    const orders = options.orders ?? DEFAULT_ORDERS;
    if (orders.length === 0 || orders.some((order) => !(order > 1) || !Number.isFinite(order)))
      throw new RangeError('RDP orders must be finite numbers above 1 (and at least one)');
    const conversion = options.conversion ?? 'classic';
    if (conversion !== 'classic' && conversion !== 'balle2020') throw new RangeError(`unknown RDP conversion "${String(conversion)}"`);
    this.orders = Object.freeze([...orders]);
    this.conversion = conversion;
    this.#rdp = orders.map(() => 0);
    for (const entry of options.history ?? []) this.step(entry.q, entry.z, entry.count);
  }

  /** Records `count` rounds at sampling rate `q` and noise multiplier `z`. Returns the accountant. */
  step(q: number, z: number, count = 1): this {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`the step count must be a non-negative integer (got ${count})`);
    this.#rdpPerStep(q, z); // validates q and z, and caches the RDP of one step
    if (count === 0) return this;
    const last = this.#history.at(-1);
    if (last && last.q === q && last.z === z) last.count += count;
    else this.#history.push({ q, z, count });
    this.#rdp = this.#total();
    return this;
  }

  /** Rounds recorded so far. */
  get steps(): number {
    return this.#history.reduce((sum, entry) => sum + entry.count, 0);
  }

  /** The rounds recorded, merged by consecutive (q, z). */
  get history(): readonly MechanismSteps[] {
    return this.#history.map((entry) => ({ ...entry }));
  }

  /** The total RDP at each of {@link orders}. */
  rdp(): readonly number[] {
    return [...this.#rdp];
  }

  /** The (ε, δ) spent so far at this δ. */
  spent(delta: number): PrivacySpent {
    return rdpToEpsilon(this.#rdp, this.orders, delta, this.conversion);
  }

  /** Whether one more round at (q, z) would bring ε, at the budget's δ, above the budget's ε. */
  wouldExceed(budget: PrivacyBudget, q: number, z: number): boolean {
    const next = this.#rdpPerStep(q, z);
    const after = this.#rdp.map((value, i) => value + next[i]);
    return rdpToEpsilon(after, this.orders, budget.delta, this.conversion).epsilon > budget.epsilon;
  }

  /** The state as plain JSON (what `JSON.stringify(accountant)` writes). */
  toJSON(): AccountantState {
    return { version: 1, orders: [...this.orders], conversion: this.conversion, history: this.history.slice() };
  }

  /**
   * An accountant restored from {@link toJSON}'s output (the RDP is recomputed from the history, so the same
   * state always gives the same ε).
   *
   * @throws TypeError when `state` is not an accountant state.
   */
  static fromJSON(state: unknown): Accountant {
    if (!isAccountantState(state)) throw new TypeError('not an accountant state (expected { version: 1, orders, conversion, history })');
    return new Accountant({ orders: state.orders, conversion: state.conversion, history: state.history });
  }

  #rdpPerStep(q: number, z: number): number[] {
    const key = `${q}/${z}`;
    let values = this.#perStep.get(key);
    if (!values) {
      values = this.orders.map((order) => subsampledGaussianRdp(q, z, order));
      this.#perStep.set(key, values);
    }
    return values;
  }

  /** Σ count · RDP per step, in history order, so a restored accountant adds up exactly the same way. */
  #total(): number[] {
    const total = this.orders.map(() => 0);
    for (const { q, z, count } of this.#history) {
      const perStep = this.#rdpPerStep(q, z);
      for (let i = 0; i < total.length; i++) total[i] += count * perStep[i];
    }
    return total;
  }
}

function checkDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1) (got ${delta})`);
}

function isAccountantState(value: unknown): value is AccountantState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<AccountantState>;
  return (
    state.version === 1 &&
    Array.isArray(state.orders) &&
    state.orders.every((order) => typeof order === 'number') &&
    (state.conversion === 'classic' || state.conversion === 'balle2020') &&
    Array.isArray(state.history) &&
    state.history.every(
      (entry: unknown) =>
        typeof entry === 'object' &&
        entry !== null &&
        typeof (entry as MechanismSteps).q === 'number' &&
        typeof (entry as MechanismSteps).z === 'number' &&
        typeof (entry as MechanismSteps).count === 'number',
    )
  );
}
