import { expect } from '@open-wc/testing';
import { decodeWeights, encodeWeights } from './codec.js';

it('encodes in the browser and decodes back, quantized to int8', () => {
  const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  const bytes = encodeWeights({ values, shapes: [{ name: 'w', shape: [1000] }] }, { taskId: 't', modelVersion: 1, dtype: 'int8' });
  expect(bytes.length).to.be.lessThan(1100 + 200);
  const back = decodeWeights(bytes).weights.values;
  expect(Math.max(...back.map((v, i) => Math.abs(v - values[i])))).to.be.lessThan(2 / 255);
});
