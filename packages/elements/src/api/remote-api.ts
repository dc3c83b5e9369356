import { createDiscoClient, createFederationApi, createSignallingApi, toDiscoApiError, type DiscoClient } from '@disco/client';
import type { FederationApi, SignallingApi } from '@disco/core';
import type { DiscoApi } from './disco-api.js';

const clients = new Map<string, DiscoApi>();

/**
 * One shared {@link DiscoApi} per server URL, so that the elements of a page share their connections. A
 * relative URL (`/`, `.`) is resolved against the page: the page's own origin serving the API.
 */
export function remoteApiFor(server: string): DiscoApi {
  const absolute = typeof document === 'undefined' ? server : new URL(server, document.baseURI).href;
  const url = absolute.replace(/\/+$/, '');
  let api = clients.get(url);
  if (!api) clients.set(url, (api = createRemoteApi(url)));
  return api;
}

/**
 * A {@link DiscoApi} over a real Disco server (`disco serve`), through `@disco/client`: the typed tRPC client
 * and the federation and signalling ports. `url` is the server's origin, e.g. `https://disco.example.org`;
 * another origin works when the server's CORS allow-list names the page's. Every failure is a
 * `DiscoApiError` (`NETWORK` when the server cannot be reached).
 */
export function createRemoteApi(url: string): DiscoApi {
  let client: DiscoClient | undefined;
  let federation: FederationApi | undefined;
  let peers: SignallingApi | undefined;
  const trpc = () => (client ??= createDiscoClient(url));
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toDiscoApiError(error, url);
    }
  };

  return {
    listTasks: () => call(() => trpc().tasks.list.query()),

    capabilities: () => call(() => trpc().tasks.capabilities.query()),

    getTask: (taskId) => call(async () => (await trpc().tasks.get.query({ id: taskId })).task),

    createTask: (task, options) =>
      call(async () => {
        const model = options.model && { modelJson: options.model.modelJson, weightsBase64: toBase64(options.model.weights) };
        const created = await trpc().tasks.create.mutate({ task, ...(model && { model }) }, { context: { token: options.adminToken } });
        return created.task;
      }),

    listRounds: (taskId) => call(() => trpc().rounds.list.query({ taskId })),

    listModels: (taskId) => call(() => trpc().models.list.query({ taskId })),

    // eslint-disable-next-line @typescript-eslint/require-await -- async: a client that fails to open rejects, like the other methods
    federation: async () => (federation ??= createFederationApi(url)),

    // eslint-disable-next-line @typescript-eslint/require-await -- as above
    peers: async () => (peers ??= createSignallingApi(url)),

    close: () => {
      federation?.close();
      federation = undefined;
      peers?.close();
      peers = undefined;
    },
  };
}

function toBase64(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
