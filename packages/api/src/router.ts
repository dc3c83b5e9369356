import { federationRouter } from './routers/federation.js';
import { modelsRouter } from './routers/models.js';
import { peersRouter } from './routers/peers.js';
import { roundsRouter } from './routers/rounds.js';
import { secureRouter } from './routers/secure.js';
import { tasksRouter } from './routers/tasks.js';
import { createCallerFactory, router } from './trpc.js';

/** The API's tRPC router, served at `/trpc` (HTTP) and over WebSocket (subscriptions). */
export const appRouter = router({
  tasks: tasksRouter,
  models: modelsRouter,
  rounds: roundsRouter,
  federation: federationRouter,
  secure: secureRouter,
  peers: peersRouter,
});

/** The contract the clients and the elements are typed against. */
export type AppRouter = typeof appRouter;

/** Calls procedures in-process (tests, the CLI): `createCaller(context).tasks.list()`. */
export const createCaller = createCallerFactory(appRouter);
