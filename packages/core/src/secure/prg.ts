// The pseudo-random generator that expands a 32-byte seed into a mask: AES-256 in counter mode over zeros.
import { SecureAggregationError } from './errors.js';
import { source } from './bytes.js';

/** The length in bytes of a PRG seed (an AES-256 key). */
export const SEED_BYTES = 32;

/**
 * Expands a 32-byte seed into `length` uint32 words: AES-256-CTR (WebCrypto, browsers and Node) encrypting
 * 4·length zero bytes from counter block 0, read as little-endian words. The same seed always gives the same
 * words, on every platform; distinct seeds give independent-looking streams.
 *
 * @example const mask = await expandSeed(seed, update.length); // Uint32Array
 */
export async function expandSeed(seed: Uint8Array, length: number): Promise<Uint32Array> {
  if (seed.length !== SEED_BYTES) throw new SecureAggregationError('range', `a PRG seed is ${SEED_BYTES} bytes, not ${seed.length}`);
  if (!Number.isInteger(length) || length < 0) throw new SecureAggregationError('range', `cannot expand a seed into ${length} words`);
  const key = await globalThis.crypto.subtle.importKey('raw', source(seed), { name: 'AES-CTR' }, false, ['encrypt']);
  const stream = await globalThis.crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(length * 4));
  const view = new DataView(stream);
  const words = new Uint32Array(length);
  for (let k = 0; k < length; k++) words[k] = view.getUint32(k * 4, true);
  return words;
}

/** 32 fresh random bytes from `crypto.getRandomValues`: a self-mask seed. */
export function randomSeed(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
}
