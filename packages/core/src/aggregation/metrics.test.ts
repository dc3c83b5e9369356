import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finiteMetrics, METRIC_KEYS, weightedMetrics, withPerplexities } from './metrics.js';

test('the metric keys are loss, accuracy, valLoss and valAccuracy', () => {
  assert.deepEqual([...METRIC_KEYS], ['loss', 'accuracy', 'valLoss', 'valAccuracy']);
});

test('weightedMetrics weights each client by its number of samples', () => {
  const mean = weightedMetrics([
    { metrics: { loss: 1, accuracy: 0.5 }, samples: 100 },
    { metrics: { loss: 4, accuracy: 0.8 }, samples: 200 },
  ]);
  assert.deepEqual(mean, { loss: 3, accuracy: 0.7 });
});

test('weightedMetrics averages a key only over the clients that reported it', () => {
  const mean = weightedMetrics([
    { metrics: { loss: 2, valAccuracy: 0.9 }, samples: 10 },
    { metrics: { loss: 4 }, samples: 30 },
  ]);
  assert.deepEqual(mean, { loss: 3.5, valAccuracy: 0.9 });
});

test('weightedMetrics skips non-finite values and absent metrics', () => {
  const mean = weightedMetrics([
    { metrics: { loss: NaN, accuracy: 0.25 }, samples: 10 },
    { metrics: { loss: 6, accuracy: Infinity }, samples: 10 },
    { metrics: null, samples: 50 },
  ]);
  assert.deepEqual(mean, { loss: 6, accuracy: 0.25 });
});

test('weightedMetrics ignores clients with no positive number of samples', () => {
  assert.deepEqual(weightedMetrics([{ metrics: { loss: 100 }, samples: 0 }, { metrics: { loss: 1 }, samples: 5 }]), { loss: 1 });
});

test('weightedMetrics of nothing is empty', () => {
  assert.deepEqual(weightedMetrics([]), {});
});

test('finiteMetrics keeps the finite known metrics only', () => {
  const meta: Record<string, number> = { loss: 0.5, accuracy: NaN, valLoss: 0.25, samples: 3 };
  assert.deepEqual(finiteMetrics(meta), { loss: 0.5, valLoss: 0.25 });
});

test('perplexities come from the (aggregated) losses: exp of the mean loss, not the mean of perplexities', () => {
  const mean = weightedMetrics([
    { metrics: { loss: Math.log(100), valLoss: Math.log(10) }, samples: 1 },
    { metrics: { loss: Math.log(10_000), valLoss: Math.log(1000) }, samples: 1 },
  ]);
  const { perplexity, valPerplexity } = withPerplexities(mean);
  assert.ok(Math.abs(perplexity! - 1000) < 1e-6); // √(100 × 10,000), where the mean of the perplexities is 5,050
  assert.ok(Math.abs(valPerplexity! - 100) < 1e-9);
  assert.deepEqual(withPerplexities({ loss: NaN }), { loss: NaN });
});
