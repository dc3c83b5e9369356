import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asyncSettings, DEFAULT_ASYNC_SETTINGS, scaleByStaleness, stalenessOf, stalenessWeight } from './staleness.js';

const polynomial = (a: number) => ({ stalenessWeighting: 'polynomial' as const, stalenessExponent: a });

test('staleness is the number of versions published after the base model', () => {
  assert.equal(stalenessOf(10, 10), 0);
  assert.equal(stalenessOf(7, 10), 3);
  assert.equal(stalenessOf(0, 1), 1);
});

test('staleness refuses a base version that was never published', () => {
  assert.throws(() => stalenessOf(11, 10), /0 to 10; got 11/);
  assert.throws(() => stalenessOf(-1, 10), /got -1/);
  assert.throws(() => stalenessOf(2.5, 10), /got 2.5/);
});

test('polynomial weighting is (1 + s)^-a: 1/√(1 + s) by default', () => {
  assert.equal(stalenessWeight(0, polynomial(0.5)), 1);
  assert.equal(stalenessWeight(3, polynomial(0.5)), 0.5);
  assert.equal(stalenessWeight(8, polynomial(0.5)), 1 / 3);
  assert.equal(stalenessWeight(1, polynomial(1)), 0.5);
  assert.equal(stalenessWeight(3, polynomial(2)), 1 / 16);
  assert.equal(stalenessWeight(5, polynomial(0)), 1);
});

test('constant weighting gives every update weight 1', () => {
  assert.equal(stalenessWeight(9, { stalenessWeighting: 'constant', stalenessExponent: 0.5 }), 1);
});

test('a negative or fractional staleness is refused', () => {
  assert.throws(() => stalenessWeight(-1, polynomial(0.5)), /got -1/);
  assert.throws(() => stalenessWeight(0.5, polynomial(0.5)), /got 0.5/);
});

test('scaleByStaleness multiplies a copy and leaves the delta alone', () => {
  const delta = Float32Array.of(2, -4, 1);
  const scaled = scaleByStaleness(delta, 0.5);
  assert.deepEqual(Array.from(scaled), [1, -2, 0.5]);
  assert.deepEqual(Array.from(delta), [2, -4, 1]);
  assert.notEqual(scaleByStaleness(delta, 1), delta);
  assert.throws(() => scaleByStaleness(delta, 1.5), /\(0, 1\], got 1.5/);
  assert.throws(() => scaleByStaleness(delta, 0), /got 0/);
});

test('asyncSettings fills in the defaults the schema applies', () => {
  assert.deepEqual(asyncSettings({}), DEFAULT_ASYNC_SETTINGS);
  assert.deepEqual(asyncSettings({ async: { bufferSize: 2 } }), { ...DEFAULT_ASYNC_SETTINGS, bufferSize: 2 });
});
