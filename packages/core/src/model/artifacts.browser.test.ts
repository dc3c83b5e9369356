import { expect } from '@open-wc/testing';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/init-backend.js';
import { loadModelFromFiles, modelFromArtifacts } from './artifacts.js';

// Fixtures written by Node's saveModelToDir, as the CLI saves models, with the outputs Node predicted on
// wasm; node/node-saved-fixture.test.ts checks they are exactly what Node saves today.
const fixtures = new URL('./fixtures/node-saved/', import.meta.url);
const wasmPaths = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

interface Expected {
  inputShape: number[];
  inputs: number[];
  outputs: number[];
}

async function fetchFixture(name: string): Promise<{ json: string; weights: ArrayBuffer; expected: Expected }> {
  const get = async (file: string) => {
    const response = await fetch(new URL(`${name}/${file}`, fixtures));
    if (!response.ok) throw new Error(`${name}/${file}: HTTP ${response.status}`);
    return response;
  };
  const [json, weights, expected] = await Promise.all([
    get('model.json').then((r) => r.text()),
    get('weights.bin').then((r) => r.arrayBuffer()),
    get('expected.json').then((r) => r.json() as Promise<Expected>),
  ]);
  return { json, weights, expected };
}

function expectSameOutputs(model: tf.LayersModel, expected: Expected): void {
  const actual = tf.tidy(() => (model.predict(tf.tensor(expected.inputs, expected.inputShape)) as tf.Tensor).dataSync());
  expect(actual.length).to.equal(expected.outputs.length);
  const worst = Math.max(...expected.outputs.map((v, i) => Math.abs(actual[i] - v)));
  expect(worst).to.be.below(1e-5);
}

for (const name of ['titanic-mlp', 'small-cnn']) {
  it(`a ${name} saved by Node loads from picked files in Chromium on wasm and predicts the same`, async () => {
    expect(await initBackend({ wasmPaths })).to.equal('wasm');
    const { json, weights, expected } = await fetchFixture(name);
    const model = await loadModelFromFiles(new File([json], 'model.json'), [new File([weights], 'weights.bin')]);
    expectSameOutputs(model, expected);
    model.dispose();
  });

  it(`a ${name} saved by Node loads from its two files in memory and predicts the same`, async () => {
    expect(await initBackend({ wasmPaths })).to.equal('wasm');
    const { json, weights, expected } = await fetchFixture(name);
    const model = await modelFromArtifacts(JSON.parse(json), new Uint8Array(weights));
    expectSameOutputs(model, expected);
    model.dispose();
  });
}
