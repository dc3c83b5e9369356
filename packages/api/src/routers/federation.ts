import { z } from 'zod';
import { DiscoApiError, type JoinResult, type RoundState } from '@disco/core';
import { authenticate, heartbeat, join, leave } from '../services/participants.js';
import { loadTask } from '../services/tasks.js';
import { maxUpdateBytes } from '../services/updates.js';
import { participantProcedure, publicProcedure, router } from '../trpc.js';

/** What `join` returns: core's `JoinResult` plus the timings and limits a client should follow. */
export interface JoinResponse extends JoinResult {
  /** Send `federation.heartbeat` this often. */
  heartbeatIntervalMs: number;
  /** Without a heartbeat for this long, a participant is dropped from the round. */
  heartbeatTimeoutMs: number;
  /** The largest update body the server accepts for this task. */
  maxUpdateBytes: number;
  /** The first round this participant is waited for in. */
  firstRound: number;
}

export const federationRouter = router({
  /**
   * Joins a task (or rejoins with the token of an earlier session) and returns the participant token, the
   * task and the current round state. Rate-limited per client address.
   */
  join: publicProcedure
    .input(z.object({ taskId: z.string().min(1).max(64), token: z.string().min(1).max(200).optional() }))
    .mutation(async ({ ctx, input }): Promise<JoinResponse> => {
      const wait = ctx.deps.joinLimiter.hit(ctx.address);
      if (wait > 0) throw new DiscoApiError('TOO_MANY_REQUESTS', `too many joins from ${ctx.address}: try again in ${Math.ceil(wait / 1000)} s`);
      const { coordinator, db } = ctx.deps;
      const joined = await join(db, coordinator, { taskId: input.taskId, token: input.token, address: ctx.address });
      return {
        participantId: joined.participant.id,
        token: joined.token,
        task: joined.stored.task,
        state: await coordinator.state(input.taskId),
        heartbeatIntervalMs: coordinator.timings.heartbeatIntervalMs,
        heartbeatTimeoutMs: coordinator.timings.heartbeatTimeoutMs,
        maxUpdateBytes: maxUpdateBytes(joined.stored),
        firstRound: joined.participant.firstRound,
      };
    }),

  /** Keeps the participant active; returns the current round state. */
  heartbeat: participantProcedure.mutation(async ({ ctx }): Promise<RoundState> => {
    await heartbeat(ctx.deps.db, ctx.deps.coordinator, ctx.participant);
    return ctx.deps.coordinator.state(ctx.participant.taskId);
  }),

  /**
   * Tasks with a sampling rate (`privacy.samplingRate` < 1): this participant sits `round` out (its coin came up
   * tails), so that the round stops waiting for it. Not an update: it adds nothing to the round.
   */
  skipRound: participantProcedure
    .input(z.object({ round: z.number().int().min(1) }))
    .mutation(async ({ ctx, input }): Promise<{ skipped: true; round: number }> => {
      const { coordinator } = ctx.deps;
      const round = await coordinator.requireOpenRound(ctx.participant.taskId, input.round);
      await coordinator.skip(round, ctx.participant.id);
      return { skipped: true, round: round.number };
    }),

  /** Leaves the task: the token stops working and the round stops waiting for this participant. */
  leave: participantProcedure.mutation(async ({ ctx }): Promise<{ left: true }> => {
    await leave(ctx.deps.db, ctx.deps.coordinator, ctx.participant);
    return { left: true };
  }),

  /**
   * The task's round state now, then at every change (opened, update received, aggregating, closed, failed,
   * deadline extended, participants changed). `token`, when given, must be a participant of this task.
   */
  onRound: publicProcedure
    .input(z.object({ taskId: z.string().min(1).max(64), token: z.string().optional() }))
    .subscription(async ({ ctx, input, signal }): Promise<AsyncGenerator<RoundState>> => {
      // Checked here, before the stream starts, so that a refusal is a proper error (code and message).
      await loadTask(ctx.deps.db, input.taskId);
      if (input.token) await authenticate(ctx.deps.db, input.token, input.taskId);
      // Subscribe before reading the current state, so that no change falls in between.
      const changes = ctx.deps.events.watch(input.taskId, signal);
      const current = await ctx.deps.coordinator.state(input.taskId);
      return (async function* () {
        yield current;
        yield* changes;
      })();
    }),
});
