import { z } from 'zod';
import { checkPublicKey, type EncryptedShare, type KeyAdvertisement } from '@disco/core';
import { fromBase64, secureContext, toBase64 } from '../services/secure.js';
import { participantProcedure, router } from '../trpc.js';

/** Bytes as standard base64, at most `bytes` long once decoded. */
const base64 = (bytes: number) =>
  z
    .string()
    .max(Math.ceil(bytes / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

const round = z.number().int().min(1);
/** Shamir allows 255 members (GF(2^8) indices); a sealed pair of shares is 12 + 64 + 16 = 92 bytes. */
const MAX_MEMBERS = 255;
const id = z.string().min(1).max(64);
const revealed = z.array(z.object({ of: id, share: base64(64) })).max(MAX_MEMBERS);

type WireKeys = { id: string; channelKey: string; maskKey: string };
type WireShare = { from: string; to: string; ciphertext: string };

const wireShare = (s: EncryptedShare): WireShare => ({ from: s.from, to: s.to, ciphertext: toBase64(s.ciphertext) });

/**
 * The small messages of a secure round (decision 0010), each bound to the token's participant; bytes travel as
 * base64. The masked input is binary: `PUT /v1/tasks/:taskId/rounds/:round/masked` (`http/binary-routes.ts`).
 * Outside its step a call is refused with ROUND_NOT_OPEN naming the round's phase.
 */
export const secureRouter = router({
  /** Phase `open`, after local training: this participant's two public keys (65 bytes each); counts as its submission. */
  advertiseKeys: participantProcedure
    .input(z.object({ round, channelKey: base64(65), maskKey: base64(65) }))
    .mutation(async ({ ctx, input }): Promise<{ accepted: true }> => {
      const { coordinator, db } = ctx.deps;
      const { stored, round: row, participantId } = await secureContext(db, coordinator, { participant: ctx.participant, round: input.round });
      const keys = { channelKey: checkPublicKey(fromBase64(input.channelKey), 'channelKey'), maskKey: checkPublicKey(fromBase64(input.maskKey), 'maskKey') };
      const updated = await coordinator.secure.receiveKeys(row, stored.parameterCount, participantId, keys, keys.channelKey.length + keys.maskKey.length);
      await coordinator.publish(row.taskId);
      await coordinator.evaluate(updated);
      return { accepted: true };
    }),

  /** Phase `sharing`: the roster U1, sorted by id. */
  roster: participantProcedure.input(z.object({ round })).query(async ({ ctx, input }): Promise<WireKeys[]> => {
    const { round: row, participantId } = await secureContext(ctx.deps.db, ctx.deps.coordinator, { participant: ctx.participant, round: input.round });
    return ctx.deps.coordinator.secure
      .roster(row, participantId)
      .map((a: KeyAdvertisement) => ({ id: a.id, channelKey: toBase64(a.channelKey), maskKey: toBase64(a.maskKey) }));
  }),

  /** Phase `sharing`: one sealed pair of shares for each other member (each `from` this participant). */
  sendShares: participantProcedure
    .input(z.object({ round, shares: z.array(z.object({ from: id, to: id, ciphertext: base64(128) })).max(MAX_MEMBERS) }))
    .mutation(async ({ ctx, input }): Promise<{ accepted: true }> => {
      const { round: row, participantId } = await secureContext(ctx.deps.db, ctx.deps.coordinator, { participant: ctx.participant, round: input.round });
      const shares = input.shares.map((s) => ({ from: s.from, to: s.to, ciphertext: fromBase64(s.ciphertext) }));
      await ctx.deps.coordinator.secure.receiveShares(row, participantId, shares, shares.reduce((n, s) => n + s.ciphertext.length, 0));
      return { accepted: true };
    }),

  /** Phase `masking`: the shares sealed to this participant by every member that dealt. */
  sharesFor: participantProcedure.input(z.object({ round })).query(async ({ ctx, input }): Promise<WireShare[]> => {
    const { round: row, participantId } = await secureContext(ctx.deps.db, ctx.deps.coordinator, { participant: ctx.participant, round: input.round });
    return ctx.deps.coordinator.secure.sharesFor(row, participantId).map(wireShare);
  }),

  /** Phase `unmasking`: whose masked inputs are in the sum. */
  unmaskRequest: participantProcedure.input(z.object({ round })).query(async ({ ctx, input }): Promise<{ survivors: string[] }> => {
    const { round: row, participantId } = await secureContext(ctx.deps.db, ctx.deps.coordinator, { participant: ctx.participant, round: input.round });
    return ctx.deps.coordinator.secure.unmaskRequest(row, participantId);
  }),

  /** Phase `unmasking`: shares of the survivors' self-mask seeds and of the dropped members' mask keys. */
  revealShares: participantProcedure
    .input(z.object({ round, selfMaskShares: revealed, maskKeyShares: revealed }))
    .mutation(async ({ ctx, input }): Promise<{ accepted: true }> => {
      const { round: row, participantId } = await secureContext(ctx.deps.db, ctx.deps.coordinator, { participant: ctx.participant, round: input.round });
      const decode = (list: { of: string; share: string }[]) => list.map((r) => ({ of: r.of, share: fromBase64(r.share) }));
      const response = { selfMaskShares: decode(input.selfMaskShares), maskKeyShares: decode(input.maskKeyShares) };
      const bytes = [...response.selfMaskShares, ...response.maskKeyShares].reduce((n, r) => n + r.share.length, 0);
      await ctx.deps.coordinator.secure.receiveReveal(row, participantId, response, bytes);
      return { accepted: true };
    }),
});
