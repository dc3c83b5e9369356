// t-of-n Shamir secret sharing of byte strings over GF(2^8), byte by byte (the field of AES: x^8 + x^4 + x^3 + x + 1).
// A share is as long as the secret; indices run 1..n (n ≤ 255). See docs/decisions/0010-secure-aggregation.md.
import { SecureAggregationError } from './errors.js';

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    EXP[i + 255] = x;
    LOG[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0); // x · 3 (the generator) mod the AES polynomial
  }
}

/** a·b in GF(2^8). */
export function gfMultiply(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]];
}

/** a / b in GF(2^8), b ≠ 0. */
export function gfDivide(a: number, b: number): number {
  if (b === 0) throw new SecureAggregationError('range', 'division by zero in GF(256)');
  return a === 0 ? 0 : EXP[LOG[a] + 255 - LOG[b]];
}

/** One share of a secret: the polynomials' values at x = `index`, one byte per secret byte. */
export interface Share {
  /** The evaluation point, 1..n (the participant's position in the round's roster, plus one). */
  index: number;
  /** The share's bytes, as long as the secret. */
  value: Uint8Array;
}

/** How to split a secret: any `threshold` of the `shares` shares recover it; fewer reveal nothing. */
export interface SplitOptions {
  /** t, at least 1 (1 means every share is the secret itself). */
  threshold: number;
  /** n, the number of shares, t ≤ n ≤ 255. */
  shares: number;
  /** Random bytes for the polynomials' coefficients; `crypto.getRandomValues` when absent (tests enumerate them). */
  randomBytes?: (length: number) => Uint8Array;
}

/**
 * Splits each byte s of the secret with a random polynomial f(x) = s + a₁x + … + a_{t−1}x^{t−1} over GF(2^8) and
 * returns f(1), …, f(n) as n shares.
 *
 * @example const shares = splitSecret(seed, { threshold: 3, shares: 5 }); combineShares(shares.slice(2)) // seed
 */
export function splitSecret(secret: Uint8Array, options: SplitOptions): Share[] {
  const { threshold: t, shares: n } = options;
  if (!Number.isInteger(t) || !Number.isInteger(n) || t < 1 || t > n || n > 255) {
    throw new SecureAggregationError('range', `a ${t}-of-${n} sharing needs whole numbers 1 ≤ t ≤ n ≤ 255`);
  }
  const degree = t - 1;
  const coefficients = options.randomBytes
    ? options.randomBytes(secret.length * degree)
    : globalThis.crypto.getRandomValues(new Uint8Array(secret.length * degree));
  if (coefficients.length < secret.length * degree) throw new SecureAggregationError('range', 'too few random bytes for the polynomials');
  const shares: Share[] = [];
  for (let x = 1; x <= n; x++) {
    const value = new Uint8Array(secret.length);
    for (let b = 0; b < secret.length; b++) {
      // Horner from the highest coefficient down to the secret byte.
      let y = 0;
      for (let j = degree; j >= 1; j--) y = gfMultiply(y, x) ^ coefficients[b * degree + j - 1];
      value[b] = gfMultiply(y, x) ^ secret[b];
    }
    shares.push({ index: x, value });
  }
  return shares;
}

/**
 * The secret from shares by Lagrange interpolation at x = 0. With `threshold`, refuses fewer shares than t;
 * without it, the caller vouches that there are at least t (fewer yield an unrelated value, never an error).
 *
 * @throws SecureAggregationError `below-threshold` for fewer than `threshold` shares, `protocol` for repeated
 *   indices or shares of different lengths.
 */
export function combineShares(shares: readonly Share[], threshold?: number): Uint8Array {
  if (threshold !== undefined && shares.length < threshold) {
    throw new SecureAggregationError('below-threshold', `${shares.length} shares cannot recover a secret shared ${threshold}-of-n`);
  }
  if (shares.length === 0) throw new SecureAggregationError('below-threshold', 'no share to recover a secret from');
  const used = threshold === undefined ? shares : shares.slice(0, threshold);
  const length = used[0].value.length;
  const seen = new Set<number>();
  for (const share of used) {
    if (!Number.isInteger(share.index) || share.index < 1 || share.index > 255 || seen.has(share.index)) {
      throw new SecureAggregationError('protocol', `share index ${share.index} is repeated or outside 1..255`);
    }
    if (share.value.length !== length) throw new SecureAggregationError('protocol', 'shares of one secret have one length');
    seen.add(share.index);
  }
  // Lagrange basis at 0: ℓ_i(0) = Π_{j≠i} x_j / (x_j − x_i), and − is ^ in GF(2^8).
  const basis = used.map((si) => used.reduce((acc, sj) => (sj === si ? acc : gfMultiply(acc, gfDivide(sj.index, sj.index ^ si.index))), 1));
  const secret = new Uint8Array(length);
  for (let b = 0; b < length; b++) {
    let s = 0;
    for (let i = 0; i < used.length; i++) s ^= gfMultiply(basis[i], used[i].value[b]);
    secret[b] = s;
  }
  return secret;
}
