// Browser-safe, like client.ts: only `@trpc/client` at run time (through client.ts), and types.
import type { PeerJoinResult, PeerRoundInfo, PeerServerEvent, SignallingApi, TransferStats } from '@disco/core';
import { closeDiscoClient, countingTransport, createDiscoClient, DiscoApiError, toDiscoApiError, type FederationApiOptions } from './client.js';

async function rethrowing<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDiscoApiError(error);
  }
}

/**
 * `@disco/core`'s {@link SignallingApi} port over a Disco server: `federation.join`/`heartbeat`/`leave`
 * for the participant, the `peers` router for signals and rounds (subscription over a WebSocket that
 * reconnects by itself), the binary route for the initial model. `stats` counts the signalling traffic;
 * the peers' own traffic is counted by the transport.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws'; // Node 20 only
 * const api = createSignallingApi('http://127.0.0.1:8080', { WebSocket });
 * const client = new DecentralizedClient({ api, taskId: 'titanic-p2p', dataset, wrtc: nodeWrtc() });
 * ```
 */
export function createSignallingApi(url: string, options: FederationApiOptions = {}): SignallingApi {
  const base = url.replace(/\/+$/, '');
  const stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  const { fetch: countingFetch, WebSocket: CountingWebSocket } = countingTransport(stats, options);
  const client = createDiscoClient(base, { WebSocket: CountingWebSocket, fetch: countingFetch });
  const as = (token: string) => ({ context: { token } });

  return {
    stats,

    join: (taskId, joinOptions) =>
      rethrowing(async (): Promise<PeerJoinResult> => {
        const joined = await client.federation.join.mutate({ taskId, ...(joinOptions?.token ? { token: joinOptions.token } : {}) });
        const peers = await client.peers.join.mutate(undefined, as(joined.token));
        return {
          participantId: joined.participantId,
          token: joined.token,
          task: joined.task,
          iceServers: peers.iceServers,
          round: peers.round,
          heartbeatIntervalMs: joined.heartbeatIntervalMs,
        };
      }),

    heartbeat: (token) => rethrowing(async () => void (await client.federation.heartbeat.mutate(undefined, as(token)))),

    async downloadInitialModel(taskId) {
      const response = await countingFetch(`${base}/v1/tasks/${encodeURIComponent(taskId)}/models/0/weights`);
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
        throw new DiscoApiError(body.code ?? `HTTP_${response.status}`, body.message ?? response.statusText, response.status);
      }
      return new Uint8Array(await response.arrayBuffer());
    },

    ready: (token, round, metrics) => rethrowing(() => client.peers.ready.mutate({ round, ...(metrics && { metrics }) }, as(token)) as Promise<PeerRoundInfo>),

    signal: (token, to, signal) => rethrowing(async () => void (await client.peers.signal.mutate({ to, signal }, as(token)))),

    watch(token, listener, onError) {
      const subscription = client.peers.onEvent.subscribe(
        { token },
        { onData: (event) => listener(event as PeerServerEvent), onError: (error) => onError?.(toDiscoApiError(error) as Error) },
      );
      return () => subscription.unsubscribe();
    },

    leave: (token) => rethrowing(async () => void (await client.federation.leave.mutate(undefined, as(token)))),

    close: () => closeDiscoClient(client),
  };
}
