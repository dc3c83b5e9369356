// @disco/client: browser-safe. At run time only `@trpc/client` and `@disco/core`; the server's router is a
// type-only import, so the protocol's shapes are inferred from it and never written twice.
export { createDiscoClient, closeDiscoClient, serverOrigin, type DiscoClient, type DiscoClientOptions, type DiscoCallContext, type TransportOptions, type WebSocketLike } from './trpc.js';
export { createFederationApi } from './federation.js';
export { createSignallingApi } from './signalling.js';
export { countingTransport } from './transfer.js';
export { toDiscoApiError, responseError } from './errors.js';
export type { AppRouter, RouterInputs, RouterOutputs, TaskSummary, RoundInfo, ModelVersionInfo, CreateTaskInput, ServerCapabilities } from './types.js';
