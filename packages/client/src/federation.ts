import { DiscoApiError, readWeightsHeader, type FederationApi } from '@disco/core';
import { calling, responseError, toDiscoApiError } from './errors.js';
import { createSecureRoundApi } from './secure.js';
import { asParticipant, countedConnection } from './transfer.js';
import { closeDiscoClient, type TransportOptions } from './trpc.js';

/**
 * `@disco/core`'s {@link FederationApi} port over a Disco server: tRPC for control messages, the binary
 * routes for weights, a WebSocket for round announcements. Every failure is a `DiscoApiError`; `stats`
 * counts traffic as `countingTransport` defines it.
 *
 * @example
 * ```ts
 * const api = createFederationApi('http://127.0.0.1:8080', { WebSocket }); // WebSocket from 'ws' in Node 20
 * const { token, state } = await api.join('titanic');
 * const global = decodeWeights(await api.downloadWeights('titanic', state.modelVersion));
 * ```
 */
export function createFederationApi(url: string, options: TransportOptions = {}): FederationApi {
  const connection = countedConnection(url, options);
  const { base, stats, fetch, client } = connection;
  /** The task of each token this client joined with (the update route names the task). */
  const tokenTasks = new Map<string, string>();

  return {
    stats,

    join: (taskId, joinOptions) =>
      calling(async () => {
        const joined = await client.federation.join.mutate({ taskId, ...(joinOptions?.token && { token: joinOptions.token }) });
        tokenTasks.set(joined.token, taskId);
        return joined;
      }, base),

    heartbeat: (token) => calling(() => client.federation.heartbeat.mutate(undefined, asParticipant(token)), base),

    downloadWeights: (taskId, version) =>
      calling(async () => {
        const response = await fetch(`${base}/v1/tasks/${encodeURIComponent(taskId)}/models/${version ?? 'latest'}/weights`);
        if (!response.ok) throw await responseError(response);
        return new Uint8Array(await response.arrayBuffer());
      }, base),

    submitUpdate: (token, round, update) =>
      calling(async () => {
        const taskId = tokenTasks.get(token) ?? taskOfUpdate(update);
        const response = await fetch(`${base}/v1/tasks/${encodeURIComponent(taskId)}/rounds/${round}/update`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
          body: update as Uint8Array<ArrayBuffer>,
        });
        if (!response.ok) throw await responseError(response);
        const result = (await response.json()) as { round: number; staleness?: number };
        // Asynchronous tasks: how many versions old the update's base model was when it arrived.
        return { accepted: true, round: result.round, ...(result.staleness !== undefined && { staleness: result.staleness }) };
      }, base),

    skipRound: (token, round) => calling(async () => void (await client.federation.skipRound.mutate({ round }, asParticipant(token))), base),

    secure: createSecureRoundApi(connection, (token) => {
      const taskId = tokenTasks.get(token);
      if (!taskId) throw new DiscoApiError('UNAUTHORIZED', 'a secure round needs a token this client joined with');
      return taskId;
    }),

    leave: (token) => calling(async () => void (await client.federation.leave.mutate(undefined, asParticipant(token))), base),

    watchRounds(taskId, token, listener, onError) {
      const subscription = client.federation.onRound.subscribe({ taskId, token }, { onData: listener, onError: (error) => onError?.(toDiscoApiError(error, base)) });
      return () => subscription.unsubscribe();
    },

    close: () => closeDiscoClient(client),
  };
}

/** The task id in an encoded update's header, for a token this client did not join with. */
function taskOfUpdate(update: Uint8Array): string {
  try {
    return readWeightsHeader(update).header.taskId;
  } catch (error) {
    throw new DiscoApiError('MALFORMED_WEIGHTS', `the update is not a Disco weights message: ${(error as Error).message}`);
  }
}
