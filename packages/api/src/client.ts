// @disco/api/client: browser-safe. Only `@trpc/client` at run time, and types from the server and core.
import {
  createTRPCClient,
  createWSClient,
  httpLink,
  splitLink,
  TRPCClientError,
  wsLink,
  type TRPCClient,
  type TRPCLink,
  type TRPCWebSocketClient,
} from '@trpc/client';
import type { FederationApi, JoinResult, RoundState, TransferStats } from '@disco/core';
import type { AppRouter } from './router.js';

export type { AppRouter } from './router.js';

/** The typed tRPC client of the Disco API. */
export type DiscoClient = TRPCClient<AppRouter>;

type WebSocketClass = typeof WebSocket;

/** A WebSocket class: the browser's global one, or the `ws` package's default export in Node 20. */
export type WebSocketLike = new (url: string | URL, protocols?: string | string[]) => object;

export interface DiscoClientOptions {
  /** The `WebSocket` class for subscriptions where there is no global one (Node 20: `import WebSocket from 'ws'`). */
  WebSocket?: WebSocketLike;
  /** A bearer token sent with every call (admin or participant); a call may override it with `{ context: { token } }`. */
  token?: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Per-call options: `client.federation.heartbeat.mutate(undefined, { context: { token } })`. */
export interface DiscoCallContext {
  token?: string;
  [key: string]: unknown;
}

const wsClients = new WeakMap<object, { close(): void }>();

/** The base URL without a trailing slash (`http://127.0.0.1:8080`). */
function baseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The typed tRPC client of a Disco server at `url` (its origin, e.g. `http://127.0.0.1:8080`): queries and
 * mutations over HTTP, subscriptions over a WebSocket opened on first use and reconnected by itself.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws'; // Node 20 only; browsers have one
 * const client = createDiscoClient('http://127.0.0.1:8080', { WebSocket, token: adminToken });
 * const tasks = await client.tasks.list.query();
 * closeDiscoClient(client);
 * ```
 */
export function createDiscoClient(url: string, options: DiscoClientOptions = {}): DiscoClient {
  const base = baseUrl(url);
  let wsClient: TRPCWebSocketClient | undefined;
  // The WebSocket client is created on the first subscription: Node 20 has no global WebSocket, and
  // a client that never subscribes should open no socket.
  const lazyWsLink: TRPCLink<AppRouter> = (runtime) => {
    let link: ReturnType<TRPCLink<AppRouter>> | undefined;
    return (op) => {
      if (!link) {
        const WebSocketImpl = (options.WebSocket as WebSocketClass | undefined) ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
        if (!WebSocketImpl) throw new Error('no WebSocket implementation: pass { WebSocket } (e.g. from the "ws" package) to subscribe in Node 20');
        wsClient = createWSClient({
          url: `${base.replace(/^http/, 'ws')}/trpc`,
          WebSocket: WebSocketImpl,
          retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 10_000),
          lazy: { enabled: true, closeMs: 1_000 },
        });
        link = wsLink<AppRouter>({ client: wsClient })(runtime);
      }
      return link(op);
    };
  };
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: lazyWsLink,
        false: httpLink({
          url: `${base}/trpc`,
          fetch: options.fetch,
          headers: ({ op }) => {
            const token = (op.context as DiscoCallContext).token ?? options.token;
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });
  wsClients.set(client, { close: () => wsClient?.close() });
  return client;
}

/** Closes the client's WebSocket, if it opened one. */
export function closeDiscoClient(client: DiscoClient): void {
  wsClients.get(client)?.close();
}

/** A refusal from the server: `code` is the server's precise code (e.g. `WRONG_ROUND`), `status` its HTTP status. */
export class DiscoApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** Every problem, when there are several (an invalid task). */
    readonly issues?: string[],
  ) {
    super(message);
    this.name = 'DiscoApiError';
  }
}

/** Turns a tRPC client error into a {@link DiscoApiError} (others pass through). */
export function toDiscoApiError(error: unknown): unknown {
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as { apiCode?: string | null; code?: string; httpStatus?: number; issues?: string[] | null };
    return new DiscoApiError(data.apiCode ?? data.code ?? 'ERROR', error.message, data.httpStatus ?? 0, data.issues ?? undefined);
  }
  return error;
}

async function rethrowing<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDiscoApiError(error);
  }
}

function byteLength(data: unknown): number {
  if (typeof data === 'string') return new TextEncoder().encode(data).byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return 0;
}

export interface FederationApiOptions {
  /** The `WebSocket` class where there is no global one (Node 20). */
  WebSocket?: WebSocketLike;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * A `fetch` and a `WebSocket` class that add every byte of request and response bodies and WebSocket
 * messages, both ways, to `stats` (shared by the federation and peer signalling ports).
 */
export function countingTransport(stats: TransferStats, options: FederationApiOptions = {}): { fetch: typeof fetch; WebSocket: WebSocketLike | undefined } {
  const rawFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  // Counts control traffic: the request body as sent, the response body as received.
  const countingFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    stats.bytesSent += byteLength(init?.body);
    const response = await rawFetch(input, init);
    const body = await response.arrayBuffer();
    stats.bytesReceived += body.byteLength;
    // 204/205/304 must be rebuilt without a body (the Response constructor refuses one).
    const nullBody = [101, 204, 205, 304].includes(response.status);
    return new Response(nullBody ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }) as typeof fetch;

  const BaseWebSocket = (options.WebSocket as WebSocketClass | undefined) ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  const CountingWebSocket = BaseWebSocket
    ? (class extends BaseWebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols);
          this.addEventListener('message', (event: MessageEvent) => void (stats.bytesReceived += byteLength(event.data)));
        }
        override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
          stats.bytesSent += byteLength(data);
          super.send(data);
        }
      } as WebSocketClass)
    : undefined;
  return { fetch: countingFetch, WebSocket: CountingWebSocket };
}

/**
 * `@disco/core`'s {@link FederationApi} port over a Disco server: tRPC for control messages, the binary
 * routes for weights, a WebSocket for round announcements. `stats` counts every byte of request and
 * response bodies and WebSocket messages, both ways.
 *
 * @example
 * ```ts
 * const api = createFederationApi('http://127.0.0.1:8080', { WebSocket }); // WebSocket from 'ws' in Node 20
 * const { token, state } = await api.join('titanic');
 * const global = decodeWeights(await api.downloadWeights('titanic', state.modelVersion));
 * ```
 */
export function createFederationApi(url: string, options: FederationApiOptions = {}): FederationApi {
  const base = baseUrl(url);
  const stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  const { fetch: countingFetch, WebSocket: CountingWebSocket } = countingTransport(stats, options);
  const client = createDiscoClient(base, { WebSocket: CountingWebSocket, fetch: countingFetch });
  /** The task of each token this client joined with (the update route names the task). */
  const tokenTasks = new Map<string, string>();

  async function binaryError(response: Response): Promise<DiscoApiError> {
    let body: { code?: string; message?: string; issues?: string[] } = {};
    try {
      body = (await response.json()) as typeof body;
    } catch {
      // not JSON: keep the status line
    }
    return new DiscoApiError(body.code ?? `HTTP_${response.status}`, body.message ?? `${response.status} ${response.statusText}`, response.status, body.issues);
  }

  return {
    stats,

    join: (taskId, joinOptions) =>
      rethrowing(async () => {
        const joined = await client.federation.join.mutate({ taskId, ...(joinOptions?.token ? { token: joinOptions.token } : {}) });
        tokenTasks.set(joined.token, taskId);
        return joined as JoinResult;
      }),

    heartbeat: (token) => rethrowing(() => client.federation.heartbeat.mutate(undefined, { context: { token } }) as Promise<RoundState>),

    async downloadWeights(taskId, version) {
      const response = await countingFetch(`${base}/v1/tasks/${encodeURIComponent(taskId)}/models/${version ?? 'latest'}/weights`);
      if (!response.ok) throw await binaryError(response);
      return new Uint8Array(await response.arrayBuffer());
    },

    async submitUpdate(token, round, update) {
      const taskId = tokenTasks.get(token) ?? taskIdOfUpdate(update);
      const response = await countingFetch(`${base}/v1/tasks/${encodeURIComponent(taskId)}/rounds/${round}/update`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: update as Uint8Array<ArrayBuffer>,
      });
      if (!response.ok) throw await binaryError(response);
      const result = (await response.json()) as { accepted: true; round: number };
      return { accepted: true, round: result.round };
    },

    leave: (token) => rethrowing(async () => void (await client.federation.leave.mutate(undefined, { context: { token } }))),

    watchRounds(taskId, token, listener, onError) {
      const subscription = client.federation.onRound.subscribe(
        { taskId, token },
        { onData: (state) => listener(state as RoundState), onError: (error) => onError?.(toDiscoApiError(error) as Error) },
      );
      return () => subscription.unsubscribe();
    },

    close: () => closeDiscoClient(client),
  };
}

/** The task id in the header of an encoded update (the codec's prefix: magic, version, dtype, u16, u32 header length, JSON). */
function taskIdOfUpdate(update: Uint8Array): string {
  try {
    const length = new DataView(update.buffer, update.byteOffset, update.byteLength).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(update.subarray(12, 12 + length))) as { taskId?: unknown };
    if (typeof header.taskId === 'string') return header.taskId;
  } catch {
    // fall through
  }
  throw new DiscoApiError('MALFORMED_WEIGHTS', 'the update is not a Disco weights message (no task id in its header)', 400);
}

export { createSignallingApi } from './peers-client.js';
