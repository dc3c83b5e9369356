import { expect } from '@open-wc/testing';
import { mulberry32 } from '../data/random.js';
import { decodeSum, encodeUpdate, fixedPointCode, sumModular } from './fixed-point.js';
import { simulateSecureRound, simulatedIds } from './testing.js';

for (const n of [3, 8, 16]) {
  it(`in Chromium, the secure sum of ${n} participants equals the plain sum of their quantized updates, bit for bit`, async () => {
    const code = fixedPointCode({ clipNorm: 1, maxParticipants: n, maxWeight: 100 });
    const random = mulberry32(n);
    const inputs = Array.from({ length: n }, () =>
      encodeUpdate({ update: Float32Array.from({ length: 256 }, () => random() - 0.5), weight: 1 + Math.floor(random() * 100) }, code, random));
    const { sum, included } = await simulateSecureRound(inputs, { taskId: 'titanic', round: 1 });
    expect(Array.from(sum)).to.deep.equal(Array.from(sumModular(inputs)));
    expect(included).to.deep.equal(simulatedIds(n));
    expect(decodeSum(sum, code).totalWeight).to.equal(inputs.reduce((w, input) => w + input[256], 0));
  });
}

it('in Chromium, two participants vanishing after masking and one before leave the survivors’ sum exact', async () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 8 });
  const random = mulberry32(1);
  const inputs = Array.from({ length: 8 }, () => encodeUpdate({ update: Float32Array.from({ length: 64 }, () => random() - 0.5) }, code, random));
  const { sum } = await simulateSecureRound(inputs, { dropAfterMasking: ['p01', 'p05'], dropBeforeMasking: ['p07'] });
  expect(Array.from(sum)).to.deep.equal(Array.from(sumModular(inputs.slice(0, 7))));
});
