import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, decodeWeights, DiscoApiError, getFlatWeights, modelFromArtifacts, modelToArtifacts, titanic, type Task } from '@disco/core';
import { createDiscoClient, closeDiscoClient, toDiscoApiError } from '@disco/client';
import { coreModelToolkit } from '../src/services/model-toolkit.js';
import { ADMIN, testServer } from './helpers.js';

// These use the real toolkit: TF.js builds and loads the models.

test('version 0 of a built-in task is its seeded model, downloadable as codec weights and as a TF.js model', async (t) => {
  const server = await testServer({ tasks: [titanic], modelToolkit: coreModelToolkit });
  t.after(() => server.cleanup());
  const expected = getFlatWeights(buildModel(titanic));

  const encoded = new Uint8Array(await (await fetch(`${server.url}/v1/tasks/titanic/models/latest/weights`)).arrayBuffer());
  const v0 = decodeWeights(encoded);
  assert.deepEqual(v0.weights.shapes, expected.shapes);
  assert.deepEqual(Array.from(v0.weights.values), Array.from(expected.values), 'all clients start from the seeded init');

  const jsonResponse = await fetch(`${server.url}/v1/tasks/titanic/models/latest/model.json`);
  assert.equal(jsonResponse.headers.get('x-disco-model-version'), '0');
  const modelJson: unknown = await jsonResponse.json();
  const weightsBin = new Uint8Array(await (await fetch(`${server.url}/v1/tasks/titanic/models/latest/weights.bin`)).arrayBuffer());
  assert.equal(weightsBin.byteLength, expected.values.length * 4);
  const loaded = await modelFromArtifacts(modelJson, weightsBin, { task: titanic });
  assert.deepEqual(Array.from(getFlatWeights(loaded).values), Array.from(expected.values));

  const fromUrl = await tf.loadLayersModel(`${server.url}/v1/tasks/titanic/models/0/model.json`);
  assert.deepEqual(Array.from(getFlatWeights(fromUrl).values), Array.from(expected.values));
});

test('an uploaded TF.js model is checked against the task: a fitting one becomes version 0, another is refused', async (t) => {
  const server = await testServer({ tasks: [], modelToolkit: coreModelToolkit });
  t.after(() => server.cleanup());
  const client = createDiscoClient(server.url, { token: ADMIN });
  t.after(() => closeDiscoClient(client));
  const uploadTask = { ...titanic, id: 'titanic-upload', model: { source: 'tfjs' } } as Task;
  const upload = async (model: tf.LayersModel) => {
    const files = await modelToArtifacts(model);
    return { modelJson: files.modelJson as unknown as Record<string, unknown>, weightsBase64: Buffer.from(files.weightsBin).toString('base64') };
  };
  const model = buildModel({ ...titanic, training: { ...titanic.training, seed: 7 } });

  await client.tasks.create.mutate({ task: uploadTask, model: await upload(model) });

  const v0 = decodeWeights(new Uint8Array(await (await fetch(`${server.url}/v1/tasks/titanic-upload/models/0/weights`)).arrayBuffer()));
  assert.deepEqual(Array.from(v0.weights.values), Array.from(getFlatWeights(model).values));

  const threeClasses = buildModel({ ...titanic, tabular: { ...titanic.tabular!, labels: ['a', 'b', 'c'] } });
  const error = toDiscoApiError(await client.tasks.create.mutate({ task: { ...uploadTask, id: 'wrong-output' }, model: await upload(threeClasses) }).catch((e: unknown) => e));
  assert.ok(error instanceof DiscoApiError);
  assert.equal(error.code, 'INVALID_MODEL');
  assert.deepEqual(error.issues, ['model output shape [null,3] does not match the task: expected [null,2] (2 classes: 0, 1)']);
  assert.deepEqual((await client.tasks.list.query()).map((s) => s.task.id), ['titanic-upload']);
});
