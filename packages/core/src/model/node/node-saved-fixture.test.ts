import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/init-backend.js';
import { mulberry32 } from '../../data/random.js';
import { getBuiltinTask } from '../../task/builtin/index.js';
import type { Task } from '../../task/schema.js';
import { buildModel } from '../build.js';
import { getFlatWeights, setFlatWeights } from '../flat-weights.js';
import { imageTask } from '../test-tasks.js';
import { saveModelToDir } from './file-system.js';

/**
 * The models that `artifacts.browser.test.ts` loads in Chromium, saved here by Node's `saveModelToDir`
 * (as the CLI does), with inputs and the outputs Node predicts for them. This test regenerates them and
 * checks that the committed files are exactly what Node saves today; `DISCO_UPDATE_FIXTURES=1` rewrites them.
 */
const fixtures = fileURLToPath(new URL('../fixtures/node-saved/', import.meta.url));

before(async () => {
  await initBackend();
});

/** Uniform float32 values in [low, high), from a seed. */
function seeded(n: number, seed: number, low: number, high: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => Math.fround(low + (high - low) * random()));
}

const cases: { name: string; task: () => Task; examples: number }[] = [
  { name: 'titanic-mlp', task: () => getBuiltinTask('titanic') as Task, examples: 6 },
  {
    name: 'small-cnn',
    task: () => imageTask({ id: 'small-cnn', image: { width: 12, height: 12, channels: 1, labels: ['a', 'b', 'c'] } }),
    examples: 3,
  },
];

async function generate(name: string, task: Task, examples: number, dir: string): Promise<void> {
  const model = buildModel(task);
  // Every weight random (biases too), so that a weight loaded in the wrong place changes the outputs.
  const { shapes, values } = getFlatWeights(model);
  setFlatWeights(model, { shapes, values: Float32Array.from(seeded(values.length, 11, -0.5, 0.5)) });
  const inputShape = [examples, ...(model.inputs[0].shape.slice(1) as number[])];
  const inputs = seeded(inputShape.reduce((a, b) => a * b, 1), 12, 0, 1);
  const outputs = tf.tidy(() => Array.from((model.predict(tf.tensor(inputs, inputShape)) as tf.Tensor).dataSync()));
  await saveModelToDir(model, dir);
  await writeFile(path.join(dir, 'expected.json'), JSON.stringify({ model: name, inputShape, inputs, outputs }) + '\n');
  model.dispose();
}

for (const { name, task, examples } of cases) {
  test(`the ${name} fixture for the browser is what Node saves`, async () => {
    const committed = path.join(fixtures, name);
    if (process.env.DISCO_UPDATE_FIXTURES) {
      await mkdir(committed, { recursive: true });
      await generate(name, task(), examples, committed);
    }
    const fresh = await mkdtemp(path.join(tmpdir(), `disco-${name}-`));
    await generate(name, task(), examples, fresh);
    for (const file of ['model.json', 'weights.bin', 'expected.json'])
      assert.deepEqual(await readFile(path.join(committed, file)), await readFile(path.join(fresh, file)), `${file} differs: rerun with DISCO_UPDATE_FIXTURES=1`);
  });
}
