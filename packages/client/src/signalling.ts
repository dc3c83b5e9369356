import type { SignallingApi } from '@disco/core';
import { calling, responseError, toDiscoApiError } from './errors.js';
import { asParticipant, countedConnection } from './transfer.js';
import { closeDiscoClient, type TransportOptions } from './trpc.js';

/**
 * `@disco/core`'s {@link SignallingApi} port over a Disco server: `federation.join`/`heartbeat`/`leave`
 * for the participant, the `peers` router for signals and rounds (a subscription over a WebSocket that
 * reconnects by itself), the binary route for the initial model. `stats` counts the signalling traffic
 * as `countingTransport` defines it; the peers' own traffic is counted by their transport.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws'; // Node 20 only
 * const api = createSignallingApi('http://127.0.0.1:8080', { WebSocket });
 * const client = new DecentralizedClient({ api, taskId: 'titanic-p2p', dataset, wrtc: nodeWrtc() });
 * ```
 */
export function createSignallingApi(url: string, options: TransportOptions = {}): SignallingApi {
  const { base, stats, fetch, client } = countedConnection(url, options);

  return {
    stats,

    join: (taskId, joinOptions) =>
      calling(async () => {
        const joined = await client.federation.join.mutate({ taskId, ...(joinOptions?.token && { token: joinOptions.token }) });
        const peers = await client.peers.join.mutate(undefined, asParticipant(joined.token));
        const { participantId, token, task, heartbeatIntervalMs } = joined;
        return { participantId, token, task, heartbeatIntervalMs, iceServers: peers.iceServers, round: peers.round };
      }, base),

    heartbeat: (token) => calling(async () => void (await client.federation.heartbeat.mutate(undefined, asParticipant(token))), base),

    downloadInitialModel: (taskId) =>
      calling(async () => {
        const response = await fetch(`${base}/v1/tasks/${encodeURIComponent(taskId)}/models/0/weights`);
        if (!response.ok) throw await responseError(response);
        return new Uint8Array(await response.arrayBuffer());
      }, base),

    ready: (token, round, metrics) => calling(() => client.peers.ready.mutate({ round, ...(metrics && { metrics }) }, asParticipant(token)), base),

    signal: (token, to, signal) => calling(async () => void (await client.peers.signal.mutate({ to, signal }, asParticipant(token))), base),

    watch(token, listener, onError) {
      const subscription = client.peers.onEvent.subscribe({ token }, { onData: listener, onError: (error) => onError?.(toDiscoApiError(error, base)) });
      return () => subscription.unsubscribe();
    },

    leave: (token) => calling(async () => void (await client.federation.leave.mutate(undefined, asParticipant(token))), base),

    close: () => closeDiscoClient(client),
  };
}
