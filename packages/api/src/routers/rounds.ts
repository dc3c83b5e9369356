import { z } from 'zod';
import { isAsync, type ClientMetrics, type RoundInfo, type RoundState } from '@disco/core';
import { listRounds } from '../services/rounds/queries.js';
import { loadTask } from '../services/tasks.js';
import { publicProcedure, router } from '../trpc.js';

export const roundsRouter = router({
  /**
   * History of a task's rounds, newest first (`before`: a round number, for paging). Asynchronous tasks: one
   * round per version, with the updates that went into it (`contributions`: participant, staleness, weight).
   */
  list: publicProcedure
    .input(z.object({ taskId: z.string(), limit: z.number().int().min(1).max(1000).default(100), before: z.number().int().optional() }))
    .query(async ({ ctx, input }): Promise<RoundInfo[]> => {
      const { task } = await loadTask(ctx.deps.db, input.taskId);
      const rows = await listRounds(ctx.deps.db, input.taskId, input.limit, input.before);
      const contributions = isAsync(task) ? await ctx.deps.coordinator.async.contributions(rows.map((r) => r.id)) : undefined;
      return rows.map((r) => ({
        number: r.number,
        phase: r.phase,
        baseVersion: r.baseVersion,
        modelVersion: r.modelVersion,
        participants: r.participants,
        submitted: r.submitted,
        samples: r.samples,
        metrics: (r.metrics as ClientMetrics | null) ?? null,
        strategy: r.strategy,
        openedAt: r.openedAt,
        deadline: r.deadlineAt,
        closedAt: r.closedAt,
        durationMs: r.closedAt === null ? null : r.closedAt - r.openedAt,
        extensions: r.extensions,
        failureReason: r.failureReason,
        epsilon: r.epsilon,
        delta: r.delta,
        clipped: r.clipped,
        ...(contributions && { contributions: contributions.get(r.id) ?? [] }),
      }));
    }),

  /** The task's current round state (what `federation.onRound` announces). */
  current: publicProcedure.input(z.object({ taskId: z.string() })).query(async ({ ctx, input }): Promise<RoundState> => {
    await loadTask(ctx.deps.db, input.taskId);
    return ctx.deps.coordinator.state(input.taskId);
  }),
});
