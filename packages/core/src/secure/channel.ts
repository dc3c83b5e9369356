// The pairwise channel that carries Shamir shares from one participant to another through the aggregator:
// AES-256-GCM under a key agreed by ECDH (purpose `channel`), the sender and recipient bound as associated data.
import { SecureAggregationError } from './errors.js';
import { concatBytes, source, utf8 } from './bytes.js';
import { contextInfo, deriveSharedSeed } from './key-agreement.js';

const IV_BYTES = 12;

/** Who sends to whom, in which task and round: what a sealed message is bound to. */
export interface ChannelContext {
  /** The task. */
  taskId: string;
  /** The round. */
  round: number;
  /** The sender's participant id. */
  from: string;
  /** The recipient's participant id. */
  to: string;
}

/**
 * The AES-256-GCM key of the channel between two participants (the same in both directions): ECDH of their channel
 * keys, then HKDF with purpose `channel`. Derive it once per peer and round; {@link sealForPeer} and
 * {@link openFromPeer} take it.
 */
export async function deriveChannelKey(privateKey: CryptoKey, peerPublicKey: Uint8Array, context: ChannelContext): Promise<CryptoKey> {
  const seed = await deriveSharedSeed(privateKey, peerPublicKey, { taskId: context.taskId, round: context.round, pair: [context.from, context.to], purpose: 'channel' });
  return globalThis.crypto.subtle.importKey('raw', source(seed), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

function associatedData(context: ChannelContext): Uint8Array<ArrayBuffer> {
  const info = contextInfo({ taskId: context.taskId, round: context.round, pair: [context.from, context.to], purpose: 'channel' });
  return concatBytes(info, utf8(`|${context.from.length}:${context.from}->${context.to.length}:${context.to}`));
}

/**
 * Encrypts `plaintext` for the recipient under the channel key ({@link deriveChannelKey}): IV (12 random bytes) ‖
 * AES-GCM ciphertext and tag, with the task, round, sender and recipient as associated data. Only the two ends can
 * open it; the aggregator relays it blind.
 */
export async function sealForPeer(key: CryptoKey, context: ChannelContext, plaintext: Uint8Array): Promise<Uint8Array> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: associatedData(context) }, key, source(plaintext));
  return concatBytes(iv, new Uint8Array(sealed));
}

/**
 * Opens what {@link sealForPeer} sealed with the same context.
 * @throws SecureAggregationError `protocol` when it was altered, or sealed for another pair, task or round.
 */
export async function openFromPeer(key: CryptoKey, context: ChannelContext, sealed: Uint8Array): Promise<Uint8Array> {
  try {
    const plain = await globalThis.crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: source(sealed.subarray(0, IV_BYTES)), additionalData: associatedData(context) },
      key,
      source(sealed.subarray(IV_BYTES)),
    );
    return new Uint8Array(plain);
  } catch {
    throw new SecureAggregationError('protocol', `the shares from ${context.from} to ${context.to} do not open: altered, or sealed for another round or pair`);
  }
}
