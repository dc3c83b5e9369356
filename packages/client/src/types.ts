import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@disco/api/router';

export type { AppRouter };

/** What each procedure returns, inferred from the server's router: the one definition of the protocol's shapes. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** What each procedure takes. */
export type RouterInputs = inferRouterInputs<AppRouter>;

/** A task and how lively it is (`tasks.list`, `tasks.get`). */
export type TaskSummary = RouterOutputs['tasks']['list'][number];
/** One round of a task's history (`rounds.list`). */
export type RoundInfo = RouterOutputs['rounds']['list'][number];
/** One stored version of a task's global model (`models.list`). */
export type ModelVersionInfo = RouterOutputs['models']['list'][number];
/** What this server supports when it runs tasks (`tasks.capabilities`). */
export type ServerCapabilities = RouterOutputs['tasks']['capabilities'];
/** What `tasks.create` takes: the task, and optionally a TF.js model in its two files. */
export type CreateTaskInput = RouterInputs['tasks']['create'];
