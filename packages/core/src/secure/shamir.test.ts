import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecureAggregationError } from './errors.js';
import { combineShares, gfDivide, gfMultiply, splitSecret } from './shamir.js';

test('GF(2^8) arithmetic: the AES field’s known product, inverses and division', () => {
  assert.equal(gfMultiply(0x57, 0x83), 0xc1); // FIPS-197 §4.2
  assert.equal(gfMultiply(0x57, 0x13), 0xfe);
  for (let a = 1; a < 256; a++) assert.equal(gfMultiply(gfDivide(1, a), a), 1);
  assert.equal(gfDivide(gfMultiply(0x57, 0x83), 0x83), 0x57);
});

test('any t of n shares recover a 32-byte secret', () => {
  const secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const shares = splitSecret(secret, { threshold: 3, shares: 5 });
  assert.deepEqual(shares.map((s) => s.index), [1, 2, 3, 4, 5]);
  for (const subset of [[0, 1, 2], [2, 3, 4], [4, 0, 2], [1, 3, 4]]) {
    assert.deepEqual(combineShares(subset.map((i) => shares[i]), 3), secret);
  }
  assert.deepEqual(combineShares(shares), secret);
});

test('fewer than t shares are refused when t is given, and give an unrelated value when it is not', () => {
  const secret = Uint8Array.of(1, 2, 3, 4);
  const shares = splitSecret(secret, { threshold: 4, shares: 6 });
  assert.throws(() => combineShares(shares.slice(0, 3), 4), (e: unknown) => e instanceof SecureAggregationError && e.code === 'below-threshold');
  assert.notDeepEqual(combineShares(shares.slice(0, 3)), secret);
  assert.throws(() => combineShares([shares[0], shares[0], shares[1], shares[2]], 4), /repeated/);
});

test('t − 1 shares of a 1-byte secret reveal nothing: every secret is equally consistent with them', () => {
  // 2-of-3: over all 256 coefficients a₁, the share at x = 2 takes each byte exactly once, whatever the secret.
  for (const secret of [0, 1, 0x80, 0xff]) {
    const counts = new Uint16Array(256);
    for (let a1 = 0; a1 < 256; a1++) counts[splitSecret(Uint8Array.of(secret), { threshold: 2, shares: 3, randomBytes: () => Uint8Array.of(a1) })[1].value[0]]++;
    assert.ok(counts.every((c) => c === 1), `secret ${secret}`);
  }
  // 3-of-5: over all 65 536 pairs (a₁, a₂), the shares at x = 1 and x = 4 take each pair of bytes exactly once.
  for (const secret of [0, 0x5a, 0xff]) {
    const counts = new Uint8Array(65_536);
    for (let c = 0; c < 65_536; c++) {
      const shares = splitSecret(Uint8Array.of(secret), { threshold: 3, shares: 5, randomBytes: () => Uint8Array.of(c & 0xff, c >>> 8) });
      counts[(shares[0].value[0] << 8) | shares[3].value[0]]++;
    }
    assert.ok(counts.every((n) => n === 1), `secret ${secret}`);
  }
});

test('sharings outside 1 ≤ t ≤ n ≤ 255 are refused', () => {
  assert.throws(() => splitSecret(Uint8Array.of(1), { threshold: 4, shares: 3 }), /1 ≤ t ≤ n ≤ 255/);
  assert.throws(() => splitSecret(Uint8Array.of(1), { threshold: 2, shares: 256 }), /1 ≤ t ≤ n ≤ 255/);
});
