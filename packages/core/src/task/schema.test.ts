import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTask, TaskValidationError, validateTask, type TaskInput } from './schema.js';

const minimal: TaskInput = {
  id: 'heart-disease',
  title: 'Heart disease',
  description: 'Predict **heart disease** from four measurements.',
  dataType: 'tabular',
  tabular: { inputColumns: ['age', 'chol'], outputColumn: 'target', labels: ['0', '1'] },
  model: { source: 'builtin', architecture: 'tabular-mlp' },
};

test('a minimal task gets every default', () => {
  const task = parseTask(minimal);

  assert.equal(task.scheme, 'federated');
  assert.equal(task.minParticipants, 2);
  assert.equal(task.aggregation.strategy, 'fedavg');
  assert.equal(task.quantization, 'float32');
  assert.deepEqual(task.training, { epochsPerRound: 1, rounds: 5, batchSize: 32, validationSplit: 0.2, optimizer: 'adam', learningRate: 0.001, seed: 42 });
  assert.deepEqual(task.privacy, { secureAggregation: false, delta: 1e-5 });
});

test('privacy settings are refused where they cannot hold, naming what they need', () => {
  const result = validateTask({
    ...minimal,
    minParticipants: 2,
    aggregation: { strategy: 'median' },
    privacy: { secureAggregation: true, noiseMultiplier: 1, budget: { epsilon: 8, delta: 1e-6 } },
  });
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.errors, [
    'privacy.clippingNorm: required when noiseMultiplier is set',
    'privacy.clippingNorm: required when secureAggregation is on: updates are clipped to it so that their masked sum cannot overflow',
    "minParticipants: must be at least 3 with secureAggregation: with two participants the sum reveals each one's update to the other",
    'aggregation.strategy: "median" needs each update on its own, which secure aggregation hides; use "fedavg"',
    'privacy.budget.delta: must equal privacy.delta (0.00001): ε is reported at one δ',
  ]);
  const noiseOnPeers = validateTask({ ...minimal, scheme: 'decentralized', privacy: { clippingNorm: 1, noiseMultiplier: 1, samplingRate: 0.5 } });
  assert.deepEqual(!noiseOnPeers.ok && noiseOnPeers.errors, [
    "privacy.noiseMultiplier: a decentralized task with noise needs secureAggregation: each peer would otherwise see the others' updates with only a share of the noise",
    'privacy.samplingRate: sampling of participants applies to federated tasks only',
  ]);
});

test('an invalid task lists every problem at once as path: reason', () => {
  const result = validateTask({
    ...minimal,
    id: 'Bad Id',
    description: 'Hello <script>alert(1)</script>',
    dataType: 'image',
    training: { batchSize: 0, learningRate: -1 },
    preprocessing: [{ type: 'standardize', column: 'weight', mean: 0, std: 1 }],
    privacy: { noiseMultiplier: 1.1 },
  });

  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.errors, [
    'id: must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit',
    'description: raw HTML is not allowed; use markdown',
    'training.batchSize: Too small: expected number to be >=1',
    'training.learningRate: Too small: expected number to be >0',
    'image: required when dataType is "image"',
    'preprocessing.0.type: "standardize" applies to tabular tasks only',
    'preprocessing.0.column: "weight" is not one of the input columns (age, chol)',
    'model.architecture: "tabular-mlp" is built for tabular data, not image',
    'privacy.clippingNorm: required when noiseMultiplier is set',
  ]);
});

test('a task missing a field still has its checks across fields reported', () => {
  const { description: _description, tabular: _tabular, ...withoutDescriptionNorColumns } = minimal;
  const result = validateTask({ ...withoutDescriptionNorColumns, model: { source: 'builtin', architecture: 'mnist-cnn' } });

  assert.deepEqual(!result.ok && result.errors, [
    'description: Invalid input: expected string, received undefined',
    'tabular: required when dataType is "tabular"',
    'model.architecture: "mnist-cnn" is built for image data, not tabular',
  ]);
});

test('parseTask throws a TaskValidationError whose message lists the issues', () => {
  assert.throws(
    () => parseTask({ ...minimal, title: '' }),
    (error: unknown) =>
      error instanceof TaskValidationError &&
      error.issues.length === 1 &&
      error.message === 'Invalid task:\n  - title: Too small: expected string to have >=1 characters',
  );
});

test('a non-object is refused with a readable message', () => {
  const result = validateTask('titanic');
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.errors[0] : '', /^\(task\): /);
});

test('deriving steps (extract, sum, is-missing) are accepted with their from and into columns', () => {
  const task = parseTask({
    ...minimal,
    tabular: { inputColumns: ['age', 'Title', 'Relatives', 'NoCabin'], outputColumn: 'target', labels: ['0', '1'] },
    preprocessing: [
      { type: 'extract', from: 'Name', pattern: ',\\s*(Mr|Mrs)\\.', into: 'Title' },
      { type: 'one-hot', column: 'Title', categories: ['Mr', 'Mrs'] },
      { type: 'sum', from: ['SibSp', 'Parch'], into: 'Relatives' },
      { type: 'is-missing', from: 'Cabin', into: 'NoCabin' },
    ],
  });
  assert.deepEqual(task.preprocessing[2], { type: 'sum', from: ['SibSp', 'Parch'], into: 'Relatives' });
});

test('a deriving step needs a valid pattern, at least one column to sum and its from and into columns', () => {
  const result = validateTask({
    ...minimal,
    preprocessing: [
      { type: 'extract', from: 'Name', pattern: '(Mr', into: 'age' },
      { type: 'sum', from: [], into: 'age' },
      { type: 'is-missing', from: 'Cabin' },
    ],
  });
  assert.deepEqual(!result.ok && result.errors, [
    'preprocessing.0.pattern: not a valid regular expression',
    'preprocessing.1.from: Too small: expected array to have >=1 items',
    'preprocessing.2.into: Invalid input: expected string, received undefined',
  ]);
});

test('each strategy parameter is checked against what its strategy reads, with the value named', () => {
  const issues = (aggregation: TaskInput['aggregation']) => {
    const result = validateTask({ ...minimal, aggregation });
    return result.ok ? [] : result.errors;
  };
  assert.deepEqual(issues({ strategy: 'trimmed-mean', parameter: 0.5 }), ['aggregation.parameter: the fraction trimmed at each end must be below 0.5, got 0.5']);
  assert.deepEqual(issues({ strategy: 'multi-krum', parameter: 1.5 }), [
    'aggregation.parameter: the number of Byzantine clients multi-krum tolerates must be a whole number, got 1.5',
  ]);
  assert.deepEqual(issues({ strategy: 'centered-clipping', parameter: 0 }), ['aggregation.parameter: the clipping radius must be above 0']);
  assert.deepEqual(issues({ strategy: 'fedavg', bucketing: { size: 2 } }), [
    'aggregation.bucketing: bucketing applies to a robust strategy; "fedavg" averages every update already',
  ]);
  assert.deepEqual(issues({ strategy: 'median', bucketing: { size: 1 } }), ['aggregation.bucketing.size: Too small: expected number to be >=2']);
  assert.deepEqual(issues({ strategy: 'krum', parameter: 2, bucketing: { size: 3 } }), []);
});

test('a server optimizer accepts only the settings it reads, in range', () => {
  const issues = (serverOptimizer: NonNullable<TaskInput['aggregation']>['serverOptimizer']) => {
    const result = validateTask({ ...minimal, aggregation: { serverOptimizer } });
    return result.ok ? [] : result.errors;
  };
  assert.deepEqual(issues({ name: 'yogi', learningRate: 0.01, momentum: 0.9, beta2: 0.99, epsilon: 0.001 }), []);
  assert.deepEqual(issues({ name: 'sgd', momentum: 0.9 }), ['aggregation.serverOptimizer.momentum: "sgd" has no momentum; use "momentum"']);
  assert.deepEqual(issues({ name: 'momentum', beta2: 0.9 }), ['aggregation.serverOptimizer.beta2: only "adam" and "yogi" read beta2, not "momentum"']);
  assert.deepEqual(issues({ name: 'adam', momentum: 1 }), ['aggregation.serverOptimizer.momentum: must be below 1']);
});

test('an asynchronous task gets FedBuff defaults', () => {
  const task = parseTask({ ...minimal, mode: 'async' });
  assert.equal(task.mode, 'async');
  assert.deepEqual(task.async, { bufferSize: 4, maxStaleness: 10, stalenessWeighting: 'polynomial', stalenessExponent: 0.5 });
});

test('asynchronous training is refused with secure aggregation and with sampling, saying why', () => {
  const result = validateTask({
    ...minimal,
    mode: 'async',
    minParticipants: 3,
    aggregation: { maxSamplesPerUpdate: 100 },
    privacy: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 1, samplingRate: 0.5 },
  });
  assert.deepEqual(!result.ok && result.errors, [
    'privacy.secureAggregation: secure aggregation needs the members of a sum to run the protocol together (keys, shares, masked inputs, unmasking), which asynchronous participants never do: not available with mode "async"; use mode "sync"',
    'privacy.samplingRate: sampling draws each participant for each round; an asynchronous task has no rounds to draw for, so the accountant would count a rate nobody used: not available with mode "async" (each version is accounted at q = 1)',
  ]);
});

test('asynchronous training takes central DP and robust strategies', () => {
  assert.equal(validateTask({ ...minimal, mode: 'async', privacy: { clippingNorm: 1, noiseMultiplier: 1, samplingRate: 1 } }).ok, true);
  assert.equal(validateTask({ ...minimal, mode: 'async', aggregation: { strategy: 'median', bucketing: { size: 2 } } }).ok, true);
});

test('asynchronous training is refused for decentralized tasks (decision 0013)', () => {
  const result = validateTask({ ...minimal, mode: 'async', scheme: 'decentralized' });
  assert.deepEqual(!result.ok && result.errors, ['mode: asynchronous training applies to federated tasks only (this one is decentralized; see decision 0013)']);
});
