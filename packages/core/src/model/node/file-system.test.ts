import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/init-backend.js';
import { modelFromArtifacts, modelToArtifacts } from '../artifacts.js';
import { buildModel } from '../build.js';
import { imageTask, tabularTask } from '../test-tasks.js';
import { loadModelFromDir, saveModelToDir } from './file-system.js';

before(async () => {
  await initBackend();
});

const tempDir = () => mkdtemp(path.join(tmpdir(), 'disco-model-'));

function predictions(model: tf.LayersModel, x: tf.Tensor): number[] {
  return Array.from((model.predict(x) as tf.Tensor).dataSync());
}

test('a model saved to a folder loads back with identical predictions', async () => {
  const task = imageTask();
  const model = buildModel(task);
  const dir = await tempDir();
  await saveModelToDir(model, dir);
  assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
  const loaded = await loadModelFromDir(dir, { task });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);
  assert.deepEqual(predictions(loaded, x), predictions(model, x));
  assert.ok(loaded.optimizer, 'compiled for the task');
});

test('model.json is a standard LayersModel that names weights.bin', async () => {
  const dir = await tempDir();
  await saveModelToDir(buildModel(tabularTask()), dir);
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { format?: string; weightsManifest: { paths: string[]; weights: { name: string }[] }[] };
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['./weights.bin']);
  assert.equal(json.weightsManifest[0].weights[0].name, 'hidden_1/kernel');
  assert.equal((await readFile(path.join(dir, 'weights.bin'))).length, 4 * (6 * 32 + 32 + 32 * 16 + 16 + 16 * 2 + 2));
});

test('a saved model whose input shape does not match the task is refused with the exact difference', async () => {
  const dir = await tempDir();
  await saveModelToDir(buildModel(tabularTask()), dir);
  const narrower = tabularTask({ preprocessing: [{ type: 'one-hot', column: 'colour', categories: ['red', 'green'] }] });
  await assert.rejects(loadModelFromDir(dir, { task: narrower }), {
    name: 'ModelError',
    message: 'model input shape [null,6] does not match the task: expected [null,5]',
  });
});

test('a truncated weights.bin is refused with the byte counts', async () => {
  const dir = await tempDir();
  await saveModelToDir(buildModel(tabularTask()), dir);
  const bytes = await readFile(path.join(dir, 'weights.bin'));
  await writeFile(path.join(dir, 'weights.bin'), bytes.subarray(0, 100));
  await assert.rejects(loadModelFromDir(dir), { name: 'ModelError', message: `the weights hold 100 bytes but model.json describes ${bytes.length}` });
});

test('a folder without model.json says so', async () => {
  const dir = await tempDir();
  await assert.rejects(loadModelFromDir(dir), (error: Error) => error.name === 'ModelError' && error.message.startsWith(`cannot read ${path.join(dir, 'model.json')}`));
});

test('in-memory artifacts are the same files as a saved folder', async () => {
  const model = buildModel(tabularTask());
  const dir = await tempDir();
  await saveModelToDir(model, dir);
  const { modelJson, weightsBin } = await modelToArtifacts(model);
  assert.deepEqual(weightsBin, new Uint8Array(await readFile(path.join(dir, 'weights.bin'))));
  assert.deepEqual(modelJson, JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')));
  const back = await modelFromArtifacts(JSON.parse(JSON.stringify(modelJson)), weightsBin);
  const x = tf.tensor2d([[0.5, -1, 2, 1, 0, 0]]);
  assert.deepEqual(predictions(back, x), predictions(model, x));
});

test('something that is not a LayersModel is refused', async () => {
  await assert.rejects(modelFromArtifacts({ hello: 1 }, new Uint8Array()), {
    name: 'ModelError',
    message: 'model.json is not a TF.js LayersModel: it needs "modelTopology" and "weightsManifest"',
  });
});
