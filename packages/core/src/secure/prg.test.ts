import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSeed } from './prg.js';

const seed = (byte: number) => new Uint8Array(32).fill(byte);

test('a seed expands to the same words every time, and a longer expansion extends a shorter one', async () => {
  const a = await expandSeed(seed(1), 100);
  assert.deepEqual(await expandSeed(seed(1), 100), a);
  assert.deepEqual((await expandSeed(seed(1), 1000)).subarray(0, 100), a);
});

test('the first words are AES-256 of the all-zero counter block, read little-endian (checked against AES-CBC with a zero IV)', async () => {
  // CTR's first keystream block is AES_k(counter 0); CBC with a zero IV encrypts the zero block to the same 16 bytes.
  const key = Uint8Array.from({ length: 32 }, (_, i) => i);
  const words = await expandSeed(key, 4);
  const aes = await globalThis.crypto.subtle.importKey('raw', key, 'AES-CBC', false, ['encrypt']);
  const block = new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, aes, new Uint8Array(16))).subarray(0, 16);
  const view = new DataView(block.buffer, block.byteOffset);
  assert.deepEqual([...words], [0, 1, 2, 3].map((k) => view.getUint32(k * 4, true)));
});

test('different seeds give unrelated streams with uniform-looking words', async () => {
  const a = await expandSeed(seed(1), 20_000);
  const b = await expandSeed(seed(2), 20_000);
  let equal = 0;
  let mean = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k] === b[k]) equal++;
    mean += a[k] / 2 ** 32 / a.length;
  }
  assert.equal(equal, 0);
  // The mean of 20 000 uniforms on [0, 1) has sd 0.002: 0.01 is 5σ.
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});

test('a seed that is not 32 bytes is refused', async () => {
  await assert.rejects(expandSeed(new Uint8Array(16), 4), /32 bytes/);
});
