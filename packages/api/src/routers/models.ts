import { z } from 'zod';
import { latestVersion, listVersions, type ModelVersionInfo } from '../services/models.js';
import { loadTask } from '../services/tasks.js';
import { publicProcedure, router } from '../trpc.js';

/** A version's metadata and where to download it (paths relative to the server's origin). */
export interface ModelVersionListing extends ModelVersionInfo {
  /** Our codec: `GET` it and decode with `decodeWeights`. */
  weightsPath: string;
}

function withPaths(info: ModelVersionInfo): ModelVersionListing {
  return { ...info, weightsPath: `/v1/tasks/${encodeURIComponent(info.taskId)}/models/${info.version}/weights` };
}

export const modelsRouter = router({
  /** Every stored version of a task's global model, newest first. */
  list: publicProcedure.input(z.object({ taskId: z.string() })).query(async ({ ctx, input }): Promise<ModelVersionListing[]> => {
    await loadTask(ctx.deps.db, input.taskId);
    return (await listVersions(ctx.deps.db, input.taskId)).map(withPaths);
  }),

  /** The latest version, with the paths of its TF.js download (`model.json` + `weights.bin`). */
  latest: publicProcedure
    .input(z.object({ taskId: z.string() }))
    .query(async ({ ctx, input }): Promise<ModelVersionListing & { modelJsonPath: string; weightsBinPath: string }> => {
      await loadTask(ctx.deps.db, input.taskId);
      const info = (await latestVersion(ctx.deps.db, input.taskId))!;
      const base = `/v1/tasks/${encodeURIComponent(input.taskId)}/models/latest`;
      return { ...withPaths(info), modelJsonPath: `${base}/model.json`, weightsBinPath: `${base}/weights.bin` };
    }),
});
