import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeWeights } from '../weights/codec.js';
import { DiscoApiError } from './api-errors.js';
import { aggregateProblem, checkUpdate, claimedSamples, type UpdateExpectation } from './check-update.js';

const shapes = [{ name: 'dense/kernel', shape: [2] }];
const expected: UpdateExpectation = { taskId: 'titanic', shapes, round: 3, baseVersion: 2, maxSamples: 1309 };

/** An update of (0.5, -1) for round 3 of titanic, from version 2, claiming `samples` examples. */
function update(samples: number): Uint8Array {
  return encodeWeights({ values: Float32Array.of(0.5, -1), shapes }, { taskId: 'titanic', modelVersion: 2, meta: { samples, accuracy: 0.75 } });
}

test('checkUpdate refuses a claim above the task bound with BAD_META naming the claim and the bound', () => {
  assert.throws(
    () => checkUpdate(update(1_000_000_000_000), expected),
    (error: unknown) => {
      assert.ok(error instanceof DiscoApiError);
      assert.equal(error.code, 'BAD_META');
      assert.equal(error.message, 'the update claims 1000000000000 training examples; task "titanic" allows at most 1309 per update');
      return true;
    },
  );
  assert.throws(() => checkUpdate(update(1310), expected), {
    code: 'BAD_META',
    message: 'the update claims 1310 training examples; task "titanic" allows at most 1309 per update',
  });
});

test('checkUpdate accepts a claim of exactly the bound, and any claim when the task sets none', () => {
  const atBound = checkUpdate(update(1309), expected);
  assert.equal(atBound.samples, 1309);
  assert.deepEqual(Array.from(atBound.delta), [0.5, -1]);
  assert.deepEqual(atBound.metrics, { accuracy: 0.75 });

  const { maxSamples: _unbounded, ...noBound } = expected;
  assert.equal(checkUpdate(update(1_000_000_000_000), noBound).samples, 1_000_000_000_000);
});

test('checkUpdate refuses a non-positive claim before comparing it with the bound', () => {
  assert.throws(() => checkUpdate(update(0), expected), {
    code: 'BAD_META',
    message: "the update header's meta.samples must be a positive number of training examples, got 0",
  });
});

test('claimedSamples clamps an honest count to the task bound, and keeps it when there is none', () => {
  const bounded = { aggregation: { maxSamplesPerUpdate: 1309 } };
  assert.equal(claimedSamples(bounded, 5000), 1309);
  assert.equal(claimedSamples(bounded, 1309), 1309);
  assert.equal(claimedSamples(bounded, 712), 712);
  assert.equal(claimedSamples({ aggregation: {} }, 5000), 5000);
});

test('aggregateProblem names a non-finite aggregate and passes a finite one', () => {
  assert.equal(aggregateProblem(Float32Array.of(0.5, -2, 3e38)), undefined);
  assert.equal(
    aggregateProblem(Float32Array.of(0.5, Infinity, NaN)),
    'the aggregate is not finite (2 of 3 values are infinite or NaN): the model stays at its previous version',
  );
});
