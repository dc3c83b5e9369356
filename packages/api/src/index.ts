// @disco/api: the hosted API (Node only). Clients (browsers, the CLI) import `@disco/client` instead.
export { startServer, type ServerOptions, type RunningServer } from './server.js';
export { appRouter, createCaller, type AppRouter } from './router.js';
export type { AppDeps, Context, TurnConfig } from './trpc.js';
export type { TrustProxy } from './http/client-address.js';
export { turnCredentials } from './services/turn.js';
export { openDb, transaction, lockTask, type Db, type OpenDb, type OpenDbOptions, type Notifier, type NotifyChannel } from './db/client.js';
export { RoundCoordinator, defaultTimings, transitions, type RoundTimings } from './services/rounds/coordinator.js';
export { RoundEvents } from './services/events.js';
export { coreModelToolkit, parseUploadedModel, type ModelToolkit, type InitialModel } from './services/model-toolkit.js';
export { maxUpdateBytes } from './services/updates.js';
export type { TaskSummary } from './services/tasks.js';
export type { ModelVersionInfo } from './services/models.js';
export type { JoinResponse } from './routers/federation.js';
export type { ModelVersionListing } from './routers/models.js';
export type { ServerCapabilities } from './routers/tasks.js';
