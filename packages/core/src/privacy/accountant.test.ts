import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Accountant, computeEpsilon, DEFAULT_ORDERS, rdpToEpsilon } from './accountant.js';
import { subsampledGaussianRdp } from './rdp.js';

function assertClose(actual: number, expected: number, relative: number, label = ''): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${label} ${actual} vs ${expected} (relative tolerance ${relative})`);
}

/**
 * An independent route to the RDP of the Poisson-subsampled Gaussian, straight from its definition:
 * log(A_α)/(α − 1) with A_α = ∫ N(x; 0, z²) (1 − q + q e^{(2x − 1)/(2z²)})^α dx, by the trapezoidal rule
 * (step z/40, from −20z to α + 20z, where the integrand peaks near x = α), summed in log space.
 */
function integratedRdp(q: number, z: number, order: number): number {
  const h = z / 40;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const logs: number[] = [];
  for (let x = -20 * z; x <= order + 20 * z; x += h) {
    const t = logQ + (2 * x - 1) / (2 * z * z);
    const high = Math.max(log1mQ, t);
    const logMixture = high + Math.log(Math.exp(log1mQ - high) + Math.exp(t - high));
    logs.push(-(x * x) / (2 * z * z) + order * logMixture);
  }
  const peak = Math.max(...logs);
  const logA = peak + Math.log(logs.reduce((sum, value) => sum + Math.exp(value - peak), 0)) + Math.log(h) - Math.log(Math.sqrt(2 * Math.PI) * z);
  return logA / (order - 1);
}

/** ε by the classic conversion, min over the orders of steps·RDP(α) + log(1/δ)/(α − 1), from the integral. */
function independentEpsilon(q: number, z: number, steps: number, delta: number): number {
  return Math.min(...DEFAULT_ORDERS.map((order) => steps * integratedRdp(q, z, order) + Math.log(1 / delta) / (order - 1)));
}

test("TensorFlow Privacy's published example: q = 256/60000, z = 1.1, 14,063 steps, δ = 1e-5 → ε ≈ 3.01 (within 1%)", () => {
  const spent = computeEpsilon({ q: 256 / 60000, z: 1.1, steps: 14063, delta: 1e-5 });

  assertClose(spent.epsilon, 3.01, 0.01);
  assert.equal(spent.order, 9);
  assert.equal(spent.delta, 1e-5);
});

test('the published example with the 24 orders of the short list stays within 1% of 3.01', () => {
  const orders = [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 128, 256];

  const spent = computeEpsilon({ q: 256 / 60000, z: 1.1, steps: 14063, delta: 1e-5, orders });

  assertClose(spent.epsilon, 3.01, 0.01);
});

test('q = 1 (every client every round), z = 2, 10 rounds, δ = 1e-5: the closed form 10·α/8 + log(1e5)/(α − 1), best at α = 4', () => {
  // By hand: ε(α) = steps·α/(2z²) + log(1/δ)/(α − 1) = 1.25α + 11.513/(α − 1), smallest near
  // α* = 1 + √(11.513/1.25) ≈ 4.03; among the orders, α = 4 gives 5 + 3.838 = 8.838.
  const expected = (10 * 4) / (2 * 2 * 2) + Math.log(1e5) / 3;

  const spent = computeEpsilon({ q: 1, z: 2, steps: 10, delta: 1e-5 });

  assert.equal(spent.order, 4);
  assertClose(spent.epsilon, expected, 1e-12);
  // Never below the continuous optimum ρ + 2√(ρ log(1/δ)), ρ = 10/(2·4).
  assert.ok(spent.epsilon >= 1.25 + 2 * Math.sqrt(1.25 * Math.log(1e5)));
});

const CASES: Array<[q: number, z: number, steps: number, delta: number]> = [
  [0.01, 1.0, 1000, 1e-5], // ε ≈ 2.54 at α = 8
  [0.1, 2.0, 100, 1e-6], // ε ≈ 3.33 at α = 9: 10% of clients per round, 100 rounds
  [0.05, 0.8, 500, 1e-5], // ε ≈ 14.46 at the fractional order α = 2.5
];

for (const [q, z, steps, delta] of CASES) {
  test(`q = ${q}, z = ${z}, ${steps} steps, δ = ${delta}: ε within 1e-6 (the issue asks 1%) of the one from the integrated RDP definition`, () => {
    const expected = independentEpsilon(q, z, steps, delta);

    const spent = computeEpsilon({ q, z, steps, delta });

    assertClose(spent.epsilon, expected, 1e-6);
  });
}

test('the Balle et al. 2020 conversion follows its formula and is tighter than the classic one', () => {
  const [q, z, steps, delta] = [0.01, 1.0, 1000, 1e-5];
  const expected = Math.min(
    ...DEFAULT_ORDERS.map(
      (a) => steps * integratedRdp(q, z, a) + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1),
    ),
  );

  const balle = computeEpsilon({ q, z, steps, delta, conversion: 'balle2020' });
  const classic = computeEpsilon({ q, z, steps, delta });

  assertClose(balle.epsilon, expected, 0.01);
  assert.ok(balle.epsilon < classic.epsilon);
  assertClose(computeEpsilon({ q: 256 / 60000, z: 1.1, steps: 14063, delta: 1e-5, conversion: 'balle2020' }).epsilon, 2.597, 0.001);
});

test('rdpToEpsilon takes the smallest ε over the orders; nothing spent is ε = 0', () => {
  assert.deepEqual(rdpToEpsilon([0.5, 1], [2, 4], 1e-5), { epsilon: 1 + Math.log(1e5) / 3, delta: 1e-5, order: 4 });
  assert.deepEqual(rdpToEpsilon([0, 0], [2, 4], 1e-5), { epsilon: 0, delta: 1e-5, order: null });
  assert.deepEqual(rdpToEpsilon([Infinity, Infinity], [2, 4], 1e-5), { epsilon: Infinity, delta: 1e-5, order: null });
  assert.throws(() => rdpToEpsilon([1], [2], 0), RangeError);
  assert.throws(() => rdpToEpsilon([1], [2], 1), RangeError);
  assert.throws(() => rdpToEpsilon([1], [2, 3], 1e-5), RangeError);
});

test('the accountant composes rounds by adding RDP: steps one at a time equal steps at once, and are merged', () => {
  const accountant = new Accountant();

  accountant.step(0.1, 1.0).step(0.1, 1.0).step(0.1, 1.0, 3);

  assert.equal(accountant.steps, 5);
  assert.deepEqual(accountant.history, [{ q: 0.1, z: 1.0, count: 5 }]);
  assert.deepEqual(accountant.spent(1e-5), computeEpsilon({ q: 0.1, z: 1.0, steps: 5, delta: 1e-5 }));
});

test('rounds at different (q, z) compose as the sum of their RDP at each order', () => {
  const accountant = new Accountant();

  accountant.step(0.1, 1.0, 10).step(1, 2.0, 4).step(0.1, 1.0);

  const expected = DEFAULT_ORDERS.map((a) => 11 * subsampledGaussianRdp(0.1, 1.0, a) + 4 * subsampledGaussianRdp(1, 2.0, a));
  accountant.rdp().forEach((value, i) => assertClose(value, expected[i], 1e-12, `α=${DEFAULT_ORDERS[i]}`));
  assert.equal(accountant.history.length, 3);
  assert.equal(accountant.steps, 15);
});

test('a fresh accountant has spent nothing; rounds without noise spend everything', () => {
  assert.deepEqual(new Accountant().spent(1e-5), { epsilon: 0, delta: 1e-5, order: null });
  assert.equal(new Accountant().step(0.5, 0).spent(1e-5).epsilon, Infinity);
});

test('wouldExceed: training stops at the last round that fits the budget', () => {
  const budget = { epsilon: 2, delta: 1e-5 };
  const accountant = new Accountant();

  let rounds = 0;
  while (!accountant.wouldExceed(budget, 0.01, 1.0)) {
    accountant.step(0.01, 1.0);
    rounds++;
  }

  assert.ok(rounds > 0);
  assert.ok(accountant.spent(budget.delta).epsilon <= budget.epsilon);
  assert.ok(computeEpsilon({ q: 0.01, z: 1.0, steps: rounds + 1, delta: budget.delta }).epsilon > budget.epsilon);
  assert.equal(accountant.steps, rounds, 'wouldExceed records nothing');
});

test('the state survives JSON: the restored accountant reports the same ε, orders and conversion', () => {
  const accountant = new Accountant({ orders: [1.5, 2, 8, 32], conversion: 'balle2020' }).step(0.2, 1.3, 7).step(1, 3);

  const restored = Accountant.fromJSON(JSON.parse(JSON.stringify(accountant)));

  assert.deepEqual(restored.toJSON(), {
    version: 1,
    orders: [1.5, 2, 8, 32],
    conversion: 'balle2020',
    history: [
      { q: 0.2, z: 1.3, count: 7 },
      { q: 1, z: 3, count: 1 },
    ],
  });
  assert.deepEqual(restored.spent(1e-6), accountant.spent(1e-6));
});

test('a state that is not an accountant state, or settings out of range, are refused', () => {
  assert.throws(() => Accountant.fromJSON({}), TypeError);
  assert.throws(() => Accountant.fromJSON({ version: 2, orders: [2], conversion: 'classic', history: [] }), TypeError);
  assert.throws(() => Accountant.fromJSON({ version: 1, orders: [2], conversion: 'classic', history: [{ q: '0.1', z: 1, count: 1 }] }), TypeError);
  assert.throws(() => Accountant.fromJSON({ version: 1, orders: [2], conversion: 'classic', history: [{ q: 2, z: 1, count: 1 }] }), RangeError);
  assert.throws(() => new Accountant({ orders: [1, 2] }), RangeError);
  assert.throws(() => new Accountant({ orders: [] }), RangeError);
  assert.throws(() => new Accountant().step(0.1, 1, 1.5), RangeError);
  assert.throws(() => new Accountant().step(0.1, 1, -1), RangeError);
});
