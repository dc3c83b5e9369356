import { DiscoApiError, requireCurrentRound, requireSecureTask } from '@disco/core';
import type { Db } from '../db/client.js';
import { authenticate, type ParticipantRow } from './participants.js';
import type { RoundCoordinator, RoundRow } from './rounds/coordinator.js';
import { loadTask, type StoredTask } from './tasks.js';

/**
 * The checks every message of a secure round passes before the round's step sees it (decision 0010): a
 * participant of a federated task with `privacy.secureAggregation`, and the task's current round. The step then
 * checks the phase and the membership (`rounds/secure-rounds.ts`). Every message is bound to the token's
 * participant: the id in a key advertisement, the sender of shares, masked inputs and revealed shares.
 */
export async function secureContext(
  db: Db,
  coordinator: RoundCoordinator,
  input: { participant: ParticipantRow; round: number },
): Promise<{ stored: StoredTask; round: RoundRow; participantId: string }> {
  const stored = await loadTask(db, input.participant.taskId);
  const { task } = stored;
  requireSecureTask(task);
  const round = await coordinator.currentRound(task.id);
  if (!round) throw new DiscoApiError('WRONG_ROUND', `task "${task.id}" has no round`);
  requireCurrentRound(input.round, round);
  return { stored, round, participantId: input.participant.id };
}

/** The same checks for the binary route, which names the task and carries the token. */
export async function secureContextForToken(db: Db, coordinator: RoundCoordinator, input: { taskId: string; token: string | null; round: number }) {
  return secureContext(db, coordinator, { participant: await authenticate(db, input.token, input.taskId), round: input.round });
}

/** Base64 (standard alphabet) to bytes. */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Bytes to base64 (standard alphabet). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A masked input body (4 bytes a word, little-endian) as words. */
export function wordsFromBody(body: Uint8Array): Uint32Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const words = new Uint32Array(Math.floor(body.byteLength / 4));
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}
