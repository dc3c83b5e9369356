import { z } from 'zod';
import type { IceServer, PeerRoundInfo, PeerServerEvent } from '@disco/core';
import { authenticate } from '../services/participants.js';
import { markReady, peerJoin, requireDecentralized, sendSignal, watchPeer } from '../services/signalling.js';
import { turnServersFor } from '../services/turn.js';
import { participantProcedure, publicProcedure, router } from '../trpc.js';

/** simple-peer's signal data: an SDP offer or answer, or an ICE candidate (bounded, unknown keys dropped). */
const rtcSignalData = z.object({
  type: z.enum(['offer', 'answer', 'candidate', 'renegotiate', 'transceiverRequest']),
  sdp: z.string().max(64_000).optional(),
  candidate: z
    .object({
      candidate: z.string().max(2_000),
      sdpMid: z.string().max(64).nullish(),
      sdpMLineIndex: z.number().int().min(0).max(1_000).nullish(),
      usernameFragment: z.string().max(256).nullish(),
    })
    .optional(),
  renegotiate: z.literal(true).optional(),
  transceiverRequest: z.object({ kind: z.string().max(16), init: z.record(z.string(), z.unknown()).optional() }).optional(),
});

export const peerSignalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hello') }),
  z.object({ kind: z.literal('rtc'), connection: z.string().min(1).max(64), data: rtcSignalData }),
]);

/** What `peers.join` returns. */
export interface PeersJoinResponse {
  participantId: string;
  /**
   * STUN/TURN servers of this server's configuration (`disco serve --ice-servers`; none by default), and
   * with `--turn-secret` the TURN servers with credentials made for this participant (expiring).
   */
  iceServers: IceServer[];
  /** The task's latest round as this participant sees it, or null before the first. */
  round: PeerRoundInfo | null;
}

/**
 * Decentralized tasks: signalling between peers and round coordination, metadata only. Participants join
 * the task through `federation.join` (token), then use these with their token; every procedure refuses
 * tasks that are not decentralized, and signals never leave the sender's task.
 */
export const peersRouter = router({
  /** The ICE servers to use and the task's latest round. */
  join: participantProcedure.mutation(
    async ({ ctx }): Promise<PeersJoinResponse> => ({
      participantId: ctx.participant.id,
      // With --turn-secret, TURN credentials of this participant's own, valid for a few hours.
      iceServers: [...ctx.deps.iceServers, ...(ctx.deps.turn ? turnServersFor(ctx.deps.turn, ctx.participant.id) : [])],
      round: await peerJoin(ctx.deps, ctx.participant),
    }),
  ),

  /** This participant holds the model after `round − 1` and is ready to train `round`. */
  ready: participantProcedure
    .input(
      z.object({
        round: z.number().int().min(1),
        metrics: z
          .record(z.string().max(32), z.number().refine(Number.isFinite, 'must be finite'))
          .refine((m) => Object.keys(m).length <= 16, 'at most 16 metrics')
          .optional(),
      }),
    )
    .mutation(({ ctx, input }): Promise<PeerRoundInfo> => markReady(ctx.deps, ctx.participant, input.round, input.metrics)),

  /** Relays a WebRTC signal to another participant of the same task; the sender is the token's participant. */
  signal: participantProcedure
    .input(z.object({ to: z.string().min(1).max(100), signal: peerSignalSchema }))
    .mutation(async ({ ctx, input }): Promise<{ sent: true }> => {
      await sendSignal(ctx.deps, ctx.participant, input.to, input.signal);
      return { sent: true };
    }),

  /** Signals addressed to this participant, and its view of the latest round at every change. */
  onEvent: publicProcedure
    .input(z.object({ token: z.string().min(1).max(200) }))
    .subscription(async ({ ctx, input, signal }): Promise<AsyncGenerator<PeerServerEvent>> => {
      // Checked before the stream starts, so that a refusal is a proper error.
      const participant = await authenticate(ctx.deps.db, input.token);
      await requireDecentralized(ctx.deps.db, participant.taskId);
      return watchPeer(ctx.deps, participant, signal);
    }),
});
