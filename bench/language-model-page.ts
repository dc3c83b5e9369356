// Runs in headless Chromium for bench/language-model.ts (bundled by esbuild): the nano GPT's training
// step through the Trainer and through a plain optimizer.minimize loop, on the page's backend.
import * as tf from '@tensorflow/tfjs';
// Core's modules directly, not its index: the index also brings the WebRTC transport (simple-peer), which
// needs Node's `events` in a bundle, and this page needs none of it.
import { initBackend, type BackendName } from '../packages/core/src/backend/index.js';
import type { Dataset } from '../packages/core/src/data/dataset.js';
import { buildModel, languageModelLoss } from '../packages/core/src/model/index.js';
import { parseTask } from '../packages/core/src/task/schema.js';
import { Trainer } from '../packages/core/src/training/trainer.js';

export interface PageResult {
  backend: string;
  trainerMsPerToken: number;
  plainMsPerToken: number;
  peakMiB: number;
}

async function lmBench(backend: BackendName, windows: number, context: number, batch: number): Promise<PageResult> {
  const active = await initBackend({ backend, wasmPaths: '/' });
  const task = parseTask({
    id: 'bench-text',
    title: 'Bench text',
    description: 'Synthetic token windows.',
    dataType: 'text',
    text: { tokenizer: 'gpt2', contextLength: context },
    model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano' } },
    training: { batchSize: batch, learningRate: 0.001, epochsPerRound: 1, validationSplit: 0 },
  });
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % 50257;
  const features = Float32Array.from({ length: windows * context }, next);
  const labels = Int32Array.from({ length: windows * context }, next);
  const data: Dataset = { features, featureShape: [context], labels, labelShape: [context], classes: [], count: windows };
  const trainer = async () => {
    const model = buildModel(task);
    const started = performance.now();
    for await (const _ of new Trainer(model, task.training).train(data, { epochs: 1 }));
    const ms = performance.now() - started;
    model.dispose();
    return ms;
  };
  const plain = async () => {
    const model = buildModel(task);
    const optimizer = tf.train.adam(0.001);
    const started = performance.now();
    const x = tf.tensor2d(features, [windows, context]);
    const y = tf.tensor2d(Float32Array.from(labels), [windows, context]);
    for (let start = 0; start < windows; start += batch) {
      const loss = optimizer.minimize(
        () => languageModelLoss(tf.slice(y, [start, 0], [batch, context]), model.apply(tf.slice(x, [start, 0], [batch, context]), { training: true }) as tf.Tensor),
        true,
      );
      await loss!.data();
      loss!.dispose();
    }
    tf.dispose([x, y]);
    const ms = performance.now() - started;
    optimizer.dispose();
    model.dispose();
    return ms;
  };
  await trainer();
  await plain();
  const t = [await trainer(), await trainer()];
  const p = [await plain(), await plain()];
  const model = buildModel(task);
  const x = tf.tensor2d(features.subarray(0, batch * context), [batch, context]);
  const y = tf.tensor2d(Float32Array.from(labels.subarray(0, batch * context)), [batch, context]);
  await model.trainOnBatch(x, y);
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  tf.dispose([x, y]);
  model.dispose();
  const tokens = windows * context;
  return { backend: active, trainerMsPerToken: Math.min(...t) / tokens, plainMsPerToken: Math.min(...p) / tokens, peakMiB: info.peakBytes / 2 ** 20 };
}

(globalThis as unknown as { lmBench: typeof lmBench }).lmBench = lmBench;
