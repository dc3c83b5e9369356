import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32Sliced } from './crc32.js';

test('crc32 gives the standard check value and agrees with the byte-wise definition at every length', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const bytewise = (bytes: Uint8Array) => {
    let crc = 0xffffffff;
    for (const b of bytes) {
      crc ^= b;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  const data = Uint8Array.from({ length: 100 }, (_, i) => (i * 151 + 7) & 0xff);
  for (let n = 0; n <= data.length; n++) assert.equal(crc32(data.subarray(0, n)), bytewise(data.subarray(0, n)), `length ${n}`);
  // An unaligned view, as network buffers often are.
  assert.equal(crc32(data.subarray(3, 60)), bytewise(data.subarray(3, 60)));
});

test('a running CRC over pieces equals the CRC of the whole', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
  const running = [0, 7, 300, 301, 999, 1000].reduce(
    (acc, end, i, ends) => (i === 0 ? acc : crc32(data.subarray(ends[i - 1], end), acc)),
    0,
  );
  assert.equal(running, crc32(data));
});

test('the portable and the native CRC agree on every length, offset and running start (Node takes zlib from 256 bytes)', () => {
  const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + (i >> 7)) & 0xff);
  for (const [start, end] of [[0, 255], [0, 256], [1, 4097], [3, 5000], [0, 5000]])
    assert.equal(crc32(data.subarray(start, end)), crc32Sliced(data.subarray(start, end)), `${start}..${end}`);
  assert.equal(crc32(data.subarray(300), crc32(data.subarray(0, 300))), crc32Sliced(data));
  assert.equal(crc32Sliced(data.subarray(300), crc32Sliced(data.subarray(0, 300))), crc32(data));
});
