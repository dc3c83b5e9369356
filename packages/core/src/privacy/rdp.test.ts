import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logErfc, subsampledGaussianRdp } from './rdp.js';

function assertClose(actual: number, expected: number, relative: number, label = ''): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${label} ${actual} vs ${expected} (relative tolerance ${relative})`);
}

test('log erfc matches reference values (scipy) from −1 to 30, within 1e-12 relative', () => {
  const reference: Array<[number, number]> = [
    [-1, Math.log(1.8427007929497148)],
    [0, 0],
    [0.5, Math.log(0.4795001221869535)],
    [1, Math.log(0.15729920705028516)],
    [2, Math.log(0.004677734981047266)],
    [3, Math.log(2.2090496998585445e-5)],
    [3.1, -11.360319632044744],
    [10, -102.87988902484493],
    [30, -903.9741171106442],
  ];

  for (const [x, expected] of reference) {
    if (expected === 0) assert.equal(logErfc(x), 0);
    else assertClose(logErfc(x), expected, 1e-12, `log erfc(${x})`);
  }
});

test('q = 1 is the plain Gaussian mechanism: α/(2z²)', () => {
  assert.equal(subsampledGaussianRdp(1, 2, 3), 3 / 8);
  assert.equal(subsampledGaussianRdp(1, 0.5, 1.5), 3);
  assert.equal(subsampledGaussianRdp(1, 1.1, 32), 32 / (2 * 1.1 * 1.1));
});

test('nothing sampled costs nothing; no noise costs everything', () => {
  assert.equal(subsampledGaussianRdp(0, 1, 2), 0);
  assert.equal(subsampledGaussianRdp(0.1, 0, 2), Infinity);
});

// Reference values: log(A_α)/(α − 1) with A_α = ∫ N(x; 0, z²) (1 − q + q e^{(2x − 1)/(2z²)})^α dx, integrated
// by mpmath.quad at 50 significant digits (an independent route: no binomial expansion, no series).
const REFERENCE: Array<[q: number, z: number, order: number, rdp: number]> = [
  [256 / 60000, 1.1, 1.25, 1.4538842929907037e-5],
  [256 / 60000, 1.1, 2, 2.339577600994916e-5],
  [256 / 60000, 1.1, 2.5, 2.9358070281851322e-5],
  [256 / 60000, 1.1, 256, 100.30680187454404],
  [0.01, 1.1, 7.5, 0.0005402594525803122],
  [0.01, 1.1, 8, 0.0005840703355202413],
  [0.01, 1.0, 63, 26.82055287552823],
  [0.05, 0.8, 1.75, 0.007725553816270341],
  [0.05, 0.8, 2.5, 0.01356338035419415],
  [0.1, 0.8, 32, 22.62313796852227],
  [0.1, 0.8, 32.5, 23.01494196754582],
  [0.5, 2, 3, 0.1100231933576233],
  [0.5, 2, 3.5, 0.13289554040636092],
];

test('integer and fractional orders match the numerical integral of the RDP definition within 1e-8 relative', () => {
  for (const [q, z, order, expected] of REFERENCE) {
    assertClose(subsampledGaussianRdp(q, z, order), expected, 1e-8, `q=${q} z=${z} α=${order}:`);
  }
});

test('RDP grows with the order and with q, and falls with z', () => {
  assert.ok(subsampledGaussianRdp(0.01, 1, 4) < subsampledGaussianRdp(0.01, 1, 4.5));
  assert.ok(subsampledGaussianRdp(0.01, 1, 4.5) < subsampledGaussianRdp(0.01, 1, 5));
  assert.ok(subsampledGaussianRdp(0.01, 1, 8) < subsampledGaussianRdp(0.02, 1, 8));
  assert.ok(subsampledGaussianRdp(0.01, 1, 8) > subsampledGaussianRdp(0.01, 1.5, 8));
  assert.ok(subsampledGaussianRdp(0.3, 1, 8) < subsampledGaussianRdp(1, 1, 8));
});

test('settings outside their ranges are refused', () => {
  assert.throws(() => subsampledGaussianRdp(-0.1, 1, 2), RangeError);
  assert.throws(() => subsampledGaussianRdp(1.5, 1, 2), RangeError);
  assert.throws(() => subsampledGaussianRdp(0.1, -1, 2), RangeError);
  assert.throws(() => subsampledGaussianRdp(0.1, 1, 1), RangeError);
  assert.throws(() => subsampledGaussianRdp(0.1, 1, Infinity), RangeError);
});
