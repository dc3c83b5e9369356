import type { SecureRoundApi } from '@disco/core';
import { calling, responseError } from './errors.js';
import { asParticipant, type CountedConnection } from './transfer.js';

/** Bytes to standard base64 (browsers and Node). */
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Words as the masked route takes them: 4 bytes each, little-endian. */
function littleEndian(words: Uint32Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i], true);
  return bytes;
}

/**
 * The steps of a secure round (core's {@link SecureRoundApi}) over a Disco server: the `secure.*` tRPC procedures
 * with bytes as base64, and the masked input as binary (`PUT /v1/tasks/:taskId/rounds/:round/masked`).
 * `taskOf(token)` names the task of a token (the binary route is per task).
 */
export function createSecureRoundApi(connection: CountedConnection, taskOf: (token: string) => string): SecureRoundApi {
  const { base, fetch, client } = connection;
  return {
    advertiseKeys: (token, round, keys) =>
      calling(async () => {
        await client.secure.advertiseKeys.mutate({ round, channelKey: toBase64(keys.channelKey), maskKey: toBase64(keys.maskKey) }, asParticipant(token));
      }, base),

    roster: (token, round) =>
      calling(async () => {
        const roster = await client.secure.roster.query({ round }, asParticipant(token));
        return roster.map((a) => ({ id: a.id, channelKey: fromBase64(a.channelKey), maskKey: fromBase64(a.maskKey) }));
      }, base),

    sendShares: (token, round, shares) =>
      calling(async () => {
        const wire = shares.map((s) => ({ from: s.from, to: s.to, ciphertext: toBase64(s.ciphertext) }));
        await client.secure.sendShares.mutate({ round, shares: wire }, asParticipant(token));
      }, base),

    sharesFor: (token, round) =>
      calling(async () => {
        const shares = await client.secure.sharesFor.query({ round }, asParticipant(token));
        return shares.map((s) => ({ from: s.from, to: s.to, ciphertext: fromBase64(s.ciphertext) }));
      }, base),

    submitMasked: (token, round, masked) =>
      calling(async () => {
        const response = await fetch(`${base}/v1/tasks/${encodeURIComponent(taskOf(token))}/rounds/${round}/masked`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
          body: littleEndian(masked),
        });
        if (!response.ok) throw await responseError(response);
      }, base),

    unmaskRequest: (token, round) => calling(() => client.secure.unmaskRequest.query({ round }, asParticipant(token)), base),

    revealShares: (token, round, response) =>
      calling(async () => {
        const wire = (list: { of: string; share: Uint8Array }[]) => list.map((r) => ({ of: r.of, share: toBase64(r.share) }));
        await client.secure.revealShares.mutate(
          { round, selfMaskShares: wire(response.selfMaskShares), maskKeyShares: wire(response.maskKeyShares) },
          asParticipant(token),
        );
      }, base),
  };
}
