// Key agreement for secure aggregation: ECDH over P-256 (WebCrypto, in browsers and Node), raw public keys as
// bytes, and HKDF-SHA-256 to bind each shared secret to its task, round, pair and purpose.
import { SecureAggregationError } from './errors.js';
import { fromBase64Url, source, toBase64Url, utf8 } from './bytes.js';

/** The curve: NIST P-256 (see docs/decisions/0010-secure-aggregation.md for why not X25519). */
export const CURVE = 'P-256';
/** Length of a raw (uncompressed, 0x04 ‖ x ‖ y) P-256 public key. */
export const PUBLIC_KEY_BYTES = 65;
/** Length of a P-256 private scalar d. */
export const PRIVATE_KEY_BYTES = 32;

/** An ECDH key pair whose public half travels as bytes and whose private scalar can be secret-shared. */
export interface AgreementKeyPair {
  /** The raw uncompressed public key (65 bytes), what the server relays. */
  publicKey: Uint8Array;
  /** The WebCrypto private key, usable for `deriveBits`. */
  privateKey: CryptoKey;
}

/** Generates a fresh P-256 ECDH key pair (extractable, so that its scalar can be Shamir-shared). */
export async function generateAgreementKeyPair(): Promise<AgreementKeyPair> {
  const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDH', namedCurve: CURVE }, true, ['deriveBits']);
  const publicKey = new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', pair.publicKey));
  return { publicKey, privateKey: pair.privateKey };
}

/** The private scalar d of a key pair (32 bytes), the secret that is Shamir-shared among the participants. */
export async function exportPrivateScalar(privateKey: CryptoKey): Promise<Uint8Array> {
  const jwk = await globalThis.crypto.subtle.exportKey('jwk', privateKey);
  if (!jwk.d) throw new SecureAggregationError('protocol', 'the private key has no scalar to export');
  return fromBase64Url(jwk.d);
}

/**
 * The private key with scalar d and raw public key `publicKey` (WebCrypto cannot import a bare scalar; the public
 * point is known to whoever reconstructs d, since it was relayed in the clear).
 *
 * @throws SecureAggregationError `protocol` when the lengths are wrong or d does not match the public key.
 */
export async function importPrivateScalar(scalar: Uint8Array, publicKey: Uint8Array): Promise<CryptoKey> {
  if (scalar.length !== PRIVATE_KEY_BYTES || publicKey.length !== PUBLIC_KEY_BYTES || publicKey[0] !== 4) {
    throw new SecureAggregationError('protocol', 'a P-256 private scalar is 32 bytes and its public key 65 uncompressed bytes');
  }
  const jwk: JsonWebKey = {
    kty: 'EC',
    crv: CURVE,
    d: toBase64Url(scalar),
    x: toBase64Url(publicKey.subarray(1, 33)),
    y: toBase64Url(publicKey.subarray(33, 65)),
    ext: true,
  };
  try {
    return await globalThis.crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: CURVE }, true, ['deriveBits']);
  } catch (error) {
    throw new SecureAggregationError('protocol', `the reconstructed private key does not match its public key (${(error as Error).message})`);
  }
}

/**
 * Imports a peer's raw public key.
 * @throws SecureAggregationError `protocol` when the bytes are not a point of P-256.
 */
export async function importPublicKey(publicKey: Uint8Array): Promise<CryptoKey> {
  try {
    return await globalThis.crypto.subtle.importKey('raw', source(publicKey), { name: 'ECDH', namedCurve: CURVE }, true, []);
  } catch (error) {
    throw new SecureAggregationError('protocol', `not a P-256 public key (${(error as Error).message})`);
  }
}

/** What a derived secret is bound to: HKDF's `info`, so that a secret never serves another round, pair or purpose. */
export interface AgreementContext {
  /** The task the round belongs to. */
  taskId: string;
  /** The round number. */
  round: number;
  /** The two participants' ids, in any order (they are sorted). */
  pair: readonly [string, string];
  /** What the secret is for: `mask` (a pairwise mask seed) or `channel` (the key that encrypts shares). */
  purpose: 'mask' | 'channel';
}

/** The HKDF `info` string of a context: length-prefixed fields, the two ids sorted. */
export function contextInfo(context: AgreementContext): Uint8Array<ArrayBuffer> {
  const [a, b] = [...context.pair].sort(compareIds);
  const fields = ['disco/secagg/v1', context.purpose, context.taskId, String(context.round), a, b];
  return utf8(fields.map((f) => `${f.length}:${f}`).join('|'));
}

/** The order of participant ids used everywhere in the protocol: by UTF-16 code units, like `Array.prototype.sort`. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * ECDH(own private key, peer public key) → HKDF-SHA-256 (salt empty, info = {@link contextInfo}) → 32 bytes.
 * Both members of a pair derive the same bytes; any change of task, round, pair or purpose changes them.
 */
export async function deriveSharedSeed(privateKey: CryptoKey, peerPublicKey: Uint8Array, context: AgreementContext): Promise<Uint8Array> {
  const peer = await importPublicKey(peerPublicKey);
  const shared = await globalThis.crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  const ikm = await globalThis.crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const seed = await globalThis.crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: contextInfo(context) }, ikm, 256);
  return new Uint8Array(seed);
}
