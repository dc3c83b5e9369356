import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/init-backend.js';
import { textDataset } from '../data/text.js';
import { loadTokenizer } from '../data/tokenizer.js';
import { splitDataset } from '../data/operations.js';
import { evaluateLanguageModel } from '../evaluation/language-model.js';
import { createGptModel } from '../model/gpt/layer.js';
import { GPT2_VOCABULARY } from '../model/gpt/sizes.js';
import { textTask } from '../model/test-tasks.js';
import type { TrainingEvent } from './events.js';
import { Trainer } from './trainer.js';

before(async () => {
  await initBackend();
});

const T = 8;
const verse = [
  'To be, or not to be, that is the Question:',
  "Whether 'tis Nobler in the minde to suffer",
  'The Slings and Arrowes of outragious Fortune,',
  'Or to take Armes against a Sea of troubles,',
  'And by opposing end them: to dye, to sleepe',
].join('\n');

/** A one-block GPT 8 wide over GPT-2's vocabulary: the real computation, small enough for a test. */
const tinyGpt = () => createGptModel({ layers: 1, heads: 1, embedding: 8, contextLength: T, vocabulary: GPT2_VOCABULARY, dropout: 0, seed: 3 });

test('on text windows, epochs report perplexity = exp(loss) and valPerplexity = exp(valLoss), done its perplexity; no tensor is left behind', async () => {
  const task = textTask({ training: { batchSize: 4, learningRate: 0.01, epochsPerRound: 1, rounds: 1, validationSplit: 0, optimizer: 'adam', seed: 1 } }, T);
  const windows = textDataset(task, [{ name: 'hamlet.txt', text: verse }], await loadTokenizer('gpt2'));
  const { train, test: held } = splitDataset(windows, 0.25, 1);
  const model = tinyGpt();
  const trainer = new Trainer(model, task.training); // compiled here, with the language model's loss
  const before = evaluateLanguageModel(model, held);
  const run = async () => {
    const events: TrainingEvent[] = [];
    for await (const event of trainer.train(train, { epochs: 3, validation: held })) events.push(event);
    return events;
  };
  await run(); // the optimizer's state is created by the first call
  const tensors = tf.memory().numTensors;
  const events = await run();
  assert.equal(tf.memory().numTensors, tensors);

  const epochs = events.filter((e) => e.type === 'epoch');
  assert.equal(epochs.length, 3);
  for (const e of epochs) {
    assert.ok(Math.abs(e.perplexity! - Math.exp(e.loss)) < 1e-6 * e.perplexity!);
    assert.ok(Math.abs(e.valPerplexity! - Math.exp(e.valLoss!)) < 1e-6 * e.valPerplexity!);
  }
  const done = events.at(-1);
  assert.ok(done?.type === 'done');
  assert.equal(done.metrics.loss, epochs[2].valLoss);
  assert.equal(done.metrics.perplexity, epochs[2].valPerplexity);
  // fit's validation loss is a mean over batches: on this held-out part, padding aside, the exact per-token mean.
  const after = evaluateLanguageModel(model, held, { batchSize: 4 });
  assert.ok(Math.abs(after.loss - epochs[2].valLoss!) < 0.05 * after.loss, `${after.loss} vs ${epochs[2].valLoss}`);
  assert.ok(after.perplexity < before.perplexity, `held-out perplexity ${before.perplexity} → ${after.perplexity}`);
  model.dispose();
});
