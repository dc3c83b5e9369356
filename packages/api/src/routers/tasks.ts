import { z } from 'zod';
import { DiscoApiError } from '@disco/core';
import { supportsFederatedSecureAggregation } from '../services/rounds/secure-rounds.js';
import { createTask, deleteTask, listTasks, loadTask, summarise, type TaskSummary } from '../services/tasks.js';
import { adminProcedure, publicProcedure, router } from '../trpc.js';

const taskId = z.string().min(1).max(64);

/** An uploaded TF.js model: `model.json` (object or its text) and `weights.bin` as base64 (never JSON numbers). */
const uploadedModel = z.object({
  modelJson: z.union([z.record(z.string(), z.unknown()), z.string()]),
  weightsBase64: z.string().max(512 * 1024 * 1024),
});

function decodeUpload(model: z.infer<typeof uploadedModel>): { modelJson: unknown; weights: Uint8Array } {
  let modelJson: unknown = model.modelJson;
  if (typeof modelJson === 'string') {
    try {
      modelJson = JSON.parse(modelJson);
    } catch {
      throw new DiscoApiError('INVALID_MODEL', 'The uploaded model does not fit the task:\n  - model.json: is not valid JSON', ['model.json: is not valid JSON']);
    }
  }
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(model.weightsBase64))
    throw new DiscoApiError('INVALID_MODEL', 'The uploaded model does not fit the task:\n  - weights.bin: is not base64', ['weights.bin: is not base64']);
  return { modelJson, weights: new Uint8Array(Buffer.from(model.weightsBase64, 'base64')) };
}

/** What this server enforces or supports when it runs tasks, so that a client offers only what it would accept. */
export interface ServerCapabilities {
  /** The database engine: with `postgres`, several instances may serve one task (decision 0015). */
  database: 'sqlite' | 'postgres';
  /** Whether a federated task may use `privacy.secureAggregation` (refused on PostgreSQL, decision 0015). */
  federatedSecureAggregation: boolean;
}

export const tasksRouter = router({
  /** What this server supports when it runs tasks: its database engine and whether federated tasks may use secure aggregation. */
  capabilities: publicProcedure.query(({ ctx }): ServerCapabilities => ({
    database: ctx.deps.db.dialect,
    federatedSecureAggregation: supportsFederatedSecureAggregation(ctx.deps.db),
  })),

  /** Every task with its participants now, the rounds closed so far and its current round. */
  list: publicProcedure.query(async ({ ctx }): Promise<TaskSummary[]> => {
    const timeout = ctx.deps.coordinator.timings.heartbeatTimeoutMs;
    return Promise.all((await listTasks(ctx.deps.db)).map((stored) => summarise(ctx.deps.db, stored, timeout)));
  }),

  get: publicProcedure.input(z.object({ id: taskId })).query(async ({ ctx, input }): Promise<TaskSummary> => {
    return summarise(ctx.deps.db, await loadTask(ctx.deps.db, input.id), ctx.deps.coordinator.timings.heartbeatTimeoutMs);
  }),

  /**
   * Creates a task (admin). `task` is validated with core's `validateTask`: an invalid one is refused with
   * every issue (`data.issues`). A task whose `model.source` is `tfjs` carries its model.
   */
  create: adminProcedure
    .input(z.object({ task: z.unknown(), model: uploadedModel.optional() }))
    .mutation(async ({ ctx, input }): Promise<TaskSummary> => {
      const stored = await createTask(ctx.deps.db, ctx.deps, { task: input.task, model: input.model ? decodeUpload(input.model) : undefined });
      await ctx.deps.coordinator.publish(stored.task.id);
      return summarise(ctx.deps.db, stored, ctx.deps.coordinator.timings.heartbeatTimeoutMs);
    }),

  /** Deletes a task with all its versions, rounds and participants (admin). */
  delete: adminProcedure.input(z.object({ id: taskId })).mutation(async ({ ctx, input }): Promise<{ deleted: string }> => {
    await deleteTask(ctx.deps.db, ctx.deps, input.id);
    ctx.deps.events.endTask(input.id);
    return { deleted: input.id };
  }),
});
