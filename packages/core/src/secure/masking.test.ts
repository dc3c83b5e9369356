import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { SecureAggregationError } from './errors.js';
import { decodeSum, encodeUpdate, fixedPointCode, sumModular, type FixedPointCode } from './fixed-point.js';
import { SecureAggregationClient, SecureAggregator, secureThreshold } from './masking.js';
import { simulateSecureRound, simulatedIds } from './testing.js';

const isCode = (code: string) => (e: unknown) => e instanceof SecureAggregationError && e.code === code;

/** n encoded weighted updates of d coordinates, reproducible from the seed. */
function encodedUpdates(n: number, d: number, seed: number, code: FixedPointCode): Uint32Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const update = Float32Array.from({ length: d }, () => (random() - 0.5) * 0.6);
    return encodeUpdate({ update, weight: 1 + Math.floor(random() * code.maxWeight) }, code, random);
  });
}

for (const n of [3, 8, 16]) {
  test(`the secure sum of ${n} participants equals the plain sum of their quantized updates, bit for bit`, async () => {
    const code = fixedPointCode({ clipNorm: 1, maxParticipants: n, maxWeight: 500 });
    const inputs = encodedUpdates(n, 64, n, code);
    const { sum, included, threshold } = await simulateSecureRound(inputs, { taskId: 'titanic', round: 7 });
    assert.deepEqual(sum, sumModular(inputs));
    assert.deepEqual(included, simulatedIds(n));
    assert.equal(threshold, secureThreshold(n));
  });
}

for (const dropped of [['p03'], ['p01', 'p06']]) {
  test(`${dropped.length} participant(s) vanishing after masking: their inputs stay in the sum, which is exact`, async () => {
    const code = fixedPointCode({ clipNorm: 1, maxParticipants: 8 });
    const inputs = encodedUpdates(8, 32, 11, code);
    const { sum, included } = await simulateSecureRound(inputs, { dropAfterMasking: dropped });
    assert.deepEqual(included, simulatedIds(8));
    assert.deepEqual(sum, sumModular(inputs));
  });

  test(`${dropped.length} participant(s) vanishing before masking: the survivors' sum is exact`, async () => {
    const code = fixedPointCode({ clipNorm: 1, maxParticipants: 8 });
    const inputs = encodedUpdates(8, 32, 12, code);
    const { sum, included } = await simulateSecureRound(inputs, { dropBeforeMasking: dropped });
    const survivors = simulatedIds(8).filter((id) => !dropped.includes(id));
    assert.deepEqual(included, survivors);
    assert.deepEqual(sum, sumModular(inputs.filter((_, i) => survivors.includes(simulatedIds(8)[i]))));
  });
}

test('drop-outs at every step at once: before sharing, before masking and after masking', async () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 9 });
  const inputs = encodedUpdates(9, 16, 13, code);
  const { sum, included } = await simulateSecureRound(inputs, { dropBeforeSharing: ['p00'], dropBeforeMasking: ['p04'], dropAfterMasking: ['p08'] });
  assert.deepEqual(included, ['p01', 'p02', 'p03', 'p05', 'p06', 'p07', 'p08']);
  assert.deepEqual(sum, sumModular([1, 2, 3, 5, 6, 7, 8].map((i) => inputs[i])));
});

test('weighted FedAvg under masking: the decoded secure sum gives Σwᵢuᵢ, Σwᵢ and their quotient', async () => {
  const code = fixedPointCode({ clipNorm: 2, maxParticipants: 4, maxWeight: 100 });
  const clients = [
    { update: Float32Array.of(0.5, -1), weight: 10 },
    { update: Float32Array.of(1, 1), weight: 30 },
    { update: Float32Array.of(-0.5, 0), weight: 60 },
    { update: Float32Array.of(0, 0.25), weight: 0 },
  ];
  const random = mulberry32(2);
  const { sum } = await simulateSecureRound(clients.map((c) => encodeUpdate(c, code, random)));
  const { totalWeight, mean } = decodeSum(sum, code);
  assert.equal(totalWeight, 100);
  // (5 + 30 − 30) / 100 = 0.05, (−10 + 30 + 0) / 100 = 0.2, to within 4 roundings of 1/scale.
  assert.ok(Math.abs(mean[0] - 0.05) < 1e-6 && Math.abs(mean[1] - 0.2) < 1e-6, `mean ${Array.from(mean).join(', ')}`);
});

test('fewer than t masked inputs: the aggregator abandons the round and unmasks nothing', async () => {
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 5 });
  const inputs = encodedUpdates(5, 8, 14, code); // t = 3
  await assert.rejects(simulateSecureRound(inputs, { dropBeforeMasking: ['p00', 'p02', 'p04'] }), isCode('below-threshold'));
});

test('fewer than t survivors revealing shares: abandoned at unmasking, and the aggregator stays abandoned', async () => {
  const ids = simulatedIds(5);
  const clients = await Promise.all(ids.map((id) => SecureAggregationClient.create({ id, taskId: 't', round: 1 })));
  const aggregator = new SecureAggregator({ taskId: 't', round: 1, length: 4 });
  for (const c of clients) aggregator.receiveKeys(c.advertise());
  const roster = aggregator.roster();
  for (const c of clients) aggregator.receiveShares(await c.shareKeys(roster));
  for (const c of clients) aggregator.receiveMasked(await c.maskInput(aggregator.sharesFor(c.id), Uint32Array.of(1, 2, 3, 4)));
  const request = aggregator.unmaskRequest();
  for (const c of clients.slice(0, 2)) aggregator.receiveUnmask(c.unmask(request)); // 2 < t = 3
  await assert.rejects(aggregator.result(), isCode('below-threshold'));
  assert.equal(aggregator.abandoned, true);
  await assert.rejects(aggregator.result(), /abandoned/);
});

test('fewer than t dealers: the aggregator relays no shares and the round is abandoned', async () => {
  const ids = simulatedIds(5);
  const clients = await Promise.all(ids.map((id) => SecureAggregationClient.create({ id, taskId: 't', round: 1 })));
  const aggregator = new SecureAggregator({ taskId: 't', round: 1, length: 4 });
  for (const c of clients) aggregator.receiveKeys(c.advertise());
  const roster = aggregator.roster();
  for (const c of clients.slice(0, 2)) aggregator.receiveShares(await c.shareKeys(roster));
  assert.throws(() => aggregator.sharesFor('p00'), isCode('below-threshold'));
  assert.equal(aggregator.abandoned, true);
});

/** Five clients (t = 3) through masking; returns them and the aggregator. */
async function maskedRound() {
  const ids = simulatedIds(5);
  const clients = await Promise.all(ids.map((id) => SecureAggregationClient.create({ id, taskId: 't', round: 2 })));
  const aggregator = new SecureAggregator({ taskId: 't', round: 2, length: 3 });
  for (const c of clients) aggregator.receiveKeys(c.advertise());
  const roster = aggregator.roster();
  for (const c of clients) aggregator.receiveShares(await c.shareKeys(roster));
  for (const c of clients) aggregator.receiveMasked(await c.maskInput(aggregator.sharesFor(c.id), Uint32Array.of(5, 6, 7)));
  return { clients, ids };
}

test('a client refuses to reveal anything when fewer than t survivors are announced', async () => {
  const { clients } = await maskedRound();
  assert.throws(() => clients[0].unmask({ survivors: ['p00', 'p01'] }), isCode('below-threshold'));
  // Nothing was recorded as revealed: a later, honest request still gets an answer.
  assert.equal(clients[0].unmask({ survivors: simulatedIds(5) }).selfMaskShares.length, 5);
});

test('a survivor never reveals both the self-mask share and the mask-key share of one participant in a round', async () => {
  const { clients, ids } = await maskedRound();
  // A lying server: first p04 survived (its self-mask share), then p04 dropped (its mask-key share).
  const first = clients[0].unmask({ survivors: ids });
  assert.deepEqual(first.selfMaskShares.map((s) => s.of), ids);
  assert.deepEqual(first.maskKeyShares, []);
  assert.throws(() => clients[0].unmask({ survivors: ids.slice(0, 4) }), isCode('double-reveal'));
  // The reverse order is refused too.
  const second = clients[1].unmask({ survivors: ids.slice(0, 4) });
  assert.deepEqual(second.maskKeyShares.map((s) => s.of), ['p04']);
  assert.throws(() => clients[1].unmask({ survivors: ids }), isCode('double-reveal'));
  // Asking the same thing again is harmless and answered.
  assert.deepEqual(clients[1].unmask({ survivors: ids.slice(0, 4) }).maskKeyShares.map((s) => s.of), ['p04']);
});

test('a client refuses survivors it holds no shares of, and a list without itself', async () => {
  const { clients, ids } = await maskedRound();
  assert.throws(() => clients[0].unmask({ survivors: [...ids, 'mallory'] }), isCode('protocol'));
  assert.throws(() => clients[0].unmask({ survivors: ids.slice(1) }), /own input is not in/);
});

test('a client refuses a roster without its own keys, too small, or with a threshold that is not a strict majority', async () => {
  const [a, b, c, d] = await Promise.all(simulatedIds(4).map((id) => SecureAggregationClient.create({ id, taskId: 't', round: 1 })));
  await assert.rejects(a.shareKeys([b.advertise(), c.advertise(), d.advertise()]), /own keys/);
  await assert.rejects(a.shareKeys([a.advertise(), b.advertise()]), isCode('below-threshold'));
  const lax = await SecureAggregationClient.create({ id: 'p00', taskId: 't', round: 1, threshold: 2 });
  await assert.rejects(lax.shareKeys([lax.advertise(), b.advertise(), c.advertise(), d.advertise()]), isCode('range'));
});

test('shares altered in transit, or relayed to another recipient, do not open', async () => {
  const clients = await Promise.all(simulatedIds(3).map((id) => SecureAggregationClient.create({ id, taskId: 't', round: 1 })));
  const roster = clients.map((c) => c.advertise());
  const dealt = await Promise.all(clients.map((c) => c.shareKeys(roster)));
  const toP00 = dealt.flatMap((m) => m.shares).filter((s) => s.to === 'p00');
  const altered = toP00.map((s, i) => (i === 0 ? { ...s, ciphertext: s.ciphertext.map((v, k) => (k === 20 ? v ^ 1 : v)) } : s));
  await assert.rejects(clients[0].maskInput(altered, Uint32Array.of(1)), /do not open/);
  const forP01 = dealt[2].shares.find((s) => s.to === 'p01')!;
  await assert.rejects(clients[1].maskInput([{ ...forP01, to: 'p01', ciphertext: dealt[2].shares.find((s) => s.to === 'p00')!.ciphertext }], Uint32Array.of(1)), /do not open/);
});

test('what the aggregator receives from a client is independent of its update (Pearson |r| < 0.1 over 3200 pairs)', async () => {
  // 100 rounds of 3, each with a fresh random update for p00 (32 coordinates, no clipping, non-negative so that
  // the unmasked encoding is monotone in it). Masks are uniform on Z/2^32 and independent of the update, so the
  // true correlation is 0 and the estimate over m = 3200 pairs has sd 1/√m ≈ 0.018: 0.1 is 5.6σ (a false failure
  // about once in 10^7 runs). The same statistic on the unmasked encoding is about 1, so the test can fail.
  const code = fixedPointCode({ clipNorm: 1, maxParticipants: 3 });
  const random = mulberry32(99);
  const xs: number[] = [];
  const masked: number[] = [];
  const plain: number[] = [];
  for (let trial = 0; trial < 100; trial++) {
    const update = Float32Array.from({ length: 32 }, () => random() * 0.15);
    const inputs = [encodeUpdate({ update }, code, random), ...encodedUpdates(2, 32, trial, code)];
    const { received } = await simulateSecureRound(inputs, { round: trial });
    const fromP00 = received.find((m) => m.from === 'p00')!.masked;
    for (let k = 0; k < 32; k++) {
      xs.push(update[k]);
      masked.push(fromP00[k]);
      plain.push(inputs[0][k]);
    }
  }
  assert.ok(Math.abs(pearson(xs, masked)) < 0.1, `r = ${pearson(xs, masked)}`);
  assert.ok(pearson(xs, plain) > 0.99);
});

function pearson(a: readonly number[], b: readonly number[]): number {
  const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
