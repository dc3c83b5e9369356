import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { shakespeareTextPaths } from '../data/node/builtin-data.js';
import { shardDataset } from '../data/operations.js';
import { textDataset } from '../data/text.js';
import { loadTokenizer } from '../data/tokenizer.js';
import { getFlatWeights } from '../model/index.js';
import { createGptModel } from '../model/gpt/layer.js';
import { GPT2_VOCABULARY } from '../model/gpt/sizes.js';
import { textTask } from '../model/test-tasks.js';
import { InMemoryFederation } from '../testing/index.js';
import type { TrainingEvent } from '../training/events.js';
import { FederatedClient } from './federated.js';

before(async () => {
  await initBackend();
});

const T = 8;
/** A one-block GPT 8 wide over GPT-2's vocabulary: the real computation, small enough for a test. */
const tinyGpt = () => createGptModel({ layers: 1, heads: 1, embedding: 8, contextLength: T, vocabulary: GPT2_VOCABULARY, dropout: 0, seed: 5 });
const close = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-9 * b;

test('a federated language model: round events carry valPerplexity, the aggregated one is exp(aggregated valLoss), and it drops', async () => {
  const task = textTask(
    { minParticipants: 2, training: { epochsPerRound: 1, rounds: 3, batchSize: 8, validationSplit: 0.25, optimizer: 'adam', learningRate: 0.05, seed: 1 } },
    T,
  );
  // The opening of Hamlet: 480 tokens, 60 windows of 8, dealt to 2 participants who each hold a quarter out.
  const tokenizer = await loadTokenizer('gpt2');
  const hamlet = (await readFile(shakespeareTextPaths.train[1], 'utf8')).slice(0, 5000);
  const windows = textDataset(task, [{ name: 'hamlet.txt', text: tokenizer.decode(tokenizer.encode(hamlet).slice(0, 481)) }], tokenizer);
  assert.equal(windows.count, 60);
  const server = new InMemoryFederation({ tasks: [task] });
  const seed = tinyGpt();
  server.seed(task.id, getFlatWeights(seed));
  seed.dispose();
  const tensors = tf.memory().numTensors;
  const clients = shardDataset(windows, 2, { seed: 2 }).map(
    (dataset) => new FederatedClient({ api: server, taskId: task.id, dataset, model: tinyGpt(), heartbeatIntervalMs: 200, pollIntervalMs: 100 }),
  );
  const runs = await Promise.all(
    clients.map(async (client) => {
      const events: TrainingEvent[] = [];
      for await (const event of client.run()) events.push(event);
      return events;
    }),
  );

  for (const events of runs) {
    const rounds = events.filter((e) => e.type === 'round');
    assert.deepEqual(rounds.map((e) => e.round), [1, 2, 3]);
    for (const { metrics } of rounds) {
      assert.ok(close(metrics.valPerplexity, Math.exp(metrics.valLoss!)), JSON.stringify(metrics));
      assert.ok(close(metrics.aggregated?.valPerplexity, Math.exp(metrics.aggregated!.valLoss!)), JSON.stringify(metrics.aggregated));
      assert.ok(close(metrics.aggregated?.perplexity, Math.exp(metrics.aggregated!.loss)));
    }
    const [first, , last] = rounds.map((e) => e.metrics.aggregated!.valPerplexity!);
    assert.ok(first < GPT2_VOCABULARY * 1.1 && last < first / 3, `aggregated validation perplexity ${first} → ${last}`);
    const done = events.at(-1);
    assert.ok(done?.type === 'done');
    assert.ok(close(done.metrics.perplexity, Math.exp(done.metrics.loss!)));
  }
  for (const { model } of clients) {
    model!.optimizer.dispose(); // a model's dispose() leaves its optimizer's state
    model!.dispose();
  }
  assert.equal(tf.memory().numTensors, tensors);
});
