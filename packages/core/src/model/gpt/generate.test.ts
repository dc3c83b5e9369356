import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/init-backend.js';
import { mulberry32 } from '../../data/random.js';
import { buildModel, compileModel } from '../build.js';
import { ModelError } from '../errors.js';
import { textTask } from '../test-tasks.js';
import { createGptModel } from './layer.js';
import { generateTokens, pickToken, windowStart, type GenerateOptions } from './generate.js';

before(async () => {
  await initBackend();
});

/** A sentence as token ids of a 64-token vocabulary (literal: the tokenizer is tested elsewhere), repeats included. */
const SENTENCE = [7, 41, 3, 19, 62, 3, 30, 11, 55, 2];

async function collect(model: tf.LayersModel, prompt: number[], options: GenerateOptions): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generateTokens(model, prompt, options)) out.push(id);
  return out;
}

test('a tiny GPT overfits one sentence, then generates it back greedily from its first token (with and without the cache)', async () => {
  // Tiny (a 64-token vocabulary keeps each step cheap on a loaded machine); nano with GPT-2's vocabulary trains in gpt.test.ts.
  const contextLength = 16;
  const model = createGptModel({ layers: 2, heads: 2, embedding: 32, contextLength, vocabulary: 64, dropout: 0, seed: 1 });
  compileModel(model, { optimizer: 'adam', learningRate: 0.01 });
  // One window: the sentence then padding (inputs 0, labels −1).
  const x = tf.tensor2d([[...SENTENCE, ...Array<number>(contextLength - SENTENCE.length).fill(0)]]);
  const y = tf.tensor2d([[...SENTENCE.slice(1), ...Array<number>(contextLength - SENTENCE.length + 1).fill(-1)]]);
  let loss = Infinity;
  for (let step = 0; step < 300 && loss > 0.05; step++) loss = (await model.trainOnBatch(x, y)) as number; // a scalar: a GPT trains with its loss alone
  assert.ok(loss < 0.05, `loss ${loss}`);
  const options = { maxTokens: SENTENCE.length - 1 };
  assert.deepEqual(await collect(model, SENTENCE.slice(0, 1), options), SENTENCE.slice(1));
  assert.deepEqual(await collect(model, SENTENCE.slice(0, 1), { ...options, cache: false }), SENTENCE.slice(1));
  tf.dispose([x, y]);
  model.dispose();
});

test('the cache gives exactly the tokens of full re-runs, greedy and sampled, well past the context length', async () => {
  const model = buildModel(textTask({ training: { seed: 5 } }, 8));
  const prompt = [11, 22, 33];
  for (const options of [{ maxTokens: 30 }, { maxTokens: 30, temperature: 1, seed: 9 }, { maxTokens: 30, temperature: 0.7, topK: 20, seed: 3 }]) {
    const cached = await collect(model, prompt, options);
    const uncached = await collect(model, prompt, { ...options, cache: false });
    assert.equal(cached.length, 30);
    assert.deepEqual(cached, uncached, JSON.stringify(options));
  }
  // A prompt longer than the context: its last 8 tokens are read.
  const long = Array.from({ length: 20 }, (_, i) => 100 + i);
  assert.deepEqual(await collect(model, long, { maxTokens: 5 }), await collect(model, long.slice(-8), { maxTokens: 5, cache: false }));
  model.dispose();
});

test('sampling is seeded: the same seed repeats, another seed differs', async () => {
  const model = buildModel(textTask({}, 8));
  const sample = (seed: number) => collect(model, [5], { maxTokens: 12, temperature: 1.5, seed });
  assert.deepEqual(await sample(1), await sample(1));
  assert.notDeepEqual(await sample(2), await sample(1));
  model.dispose();
});

test('generation leaves no tensor behind, also when the consumer stops early or the signal aborts', async () => {
  const model = buildModel(textTask({}, 8));
  await collect(model, [1, 2], { maxTokens: 2 }); // warm-up
  const before = tf.memory().numTensors;
  await collect(model, [1, 2], { maxTokens: 12 });
  await collect(model, [1, 2], { maxTokens: 12, cache: false });
  for await (const id of generateTokens(model, [1, 2], { maxTokens: 12 })) if (id >= 0) break;
  const controller = new AbortController();
  let count = 0;
  for await (const _ of generateTokens(model, [3], { maxTokens: 12, signal: controller.signal })) if (++count === 3) controller.abort();
  assert.equal(count, 3);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('bad prompts, options and models are refused with a message', async () => {
  const model = buildModel(textTask({}, 8));
  await assert.rejects(collect(model, [], { maxTokens: 1 }), /prompt is empty/);
  await assert.rejects(collect(model, [50257], { maxTokens: 1 }), /token id 50257 is not in the vocabulary/);
  await assert.rejects(collect(model, [1], { maxTokens: 1, topK: 0 }), /topK/);
  const classifier = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
  await assert.rejects(collect(classifier, [1], { maxTokens: 1 }), ModelError);
  model.dispose();
  classifier.dispose();
});

test('the window keeps the whole sequence while it fits, then its last ⌈T/2⌉ tokens', () => {
  assert.equal(windowStart(8, 0, 8), 0);
  assert.equal(windowStart(9, 0, 8), 5);
  assert.equal(windowStart(12, 5, 8), 5);
  assert.equal(windowStart(14, 5, 8), 10);
});

test('pickToken: greedy is the arg-max; top-k samples only among the k largest logits', () => {
  const logits = Float32Array.from([0.1, 3, 2.9, -1, 2.8]);
  assert.equal(pickToken(logits, mulberry32(1)), 1);
  assert.equal(pickToken(logits, mulberry32(1), 1, 1), 1);
  const random = mulberry32(7);
  const seen = new Set(Array.from({ length: 300 }, () => pickToken(logits, random, 1, 3)));
  assert.deepEqual([...seen].sort(), [1, 2, 4]);
});
