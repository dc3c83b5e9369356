import { createTRPCClient, createWSClient, httpLink, splitLink, wsLink, type TRPCClient, type TRPCLink, type TRPCWebSocketClient } from '@trpc/client';
import type { AppRouter } from '@disco/api/router';

/** The typed tRPC client of the Disco API. */
export type DiscoClient = TRPCClient<AppRouter>;

/** A WebSocket class: the browser's global one, or the `ws` package's default export in Node 20. */
export type WebSocketLike = new (url: string | URL, protocols?: string | string[]) => object;

/**
 * The given class, or the global one, as the DOM's `WebSocket` type. The `ws` package implements the same
 * interface as browsers do (what tRPC and the byte counter use of it), but its declared types differ from
 * the DOM's, hence the one conversion here.
 */
export function webSocketClass(given?: WebSocketLike): typeof WebSocket | undefined {
  const found = given ?? (typeof globalThis.WebSocket === 'function' ? globalThis.WebSocket : undefined);
  return found as typeof WebSocket | undefined;
}

/** Where and how to reach a server. */
export interface TransportOptions {
  /** The `WebSocket` class for subscriptions where there is no global one (Node 20: `import WebSocket from 'ws'`). */
  WebSocket?: WebSocketLike;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface DiscoClientOptions extends TransportOptions {
  /** A bearer token sent with every call (admin or participant); a call may override it with `{ context: { token } }`. */
  token?: string;
}

/** Per-call options: `client.federation.heartbeat.mutate(undefined, { context: { token } })`. */
export interface DiscoCallContext {
  token?: string;
  [key: string]: unknown;
}

const sockets = new WeakMap<DiscoClient, () => void>();

/** The server's origin without a trailing slash (`http://127.0.0.1:8080`). */
export function serverOrigin(url: string): string {
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
  const base = serverOrigin(url);
  let wsClient: TRPCWebSocketClient | undefined;
  // The WebSocket client is created on the first subscription: Node 20 has no global WebSocket, and
  // a client that never subscribes should open no socket.
  const lazyWsLink: TRPCLink<AppRouter> = (runtime) => {
    let link: ReturnType<TRPCLink<AppRouter>> | undefined;
    return (op) => {
      if (!link) {
        const WebSocketImpl = webSocketClass(options.WebSocket);
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
  sockets.set(client, () => void wsClient?.close());
  return client;
}

/** Closes the client's WebSocket, if it opened one. */
export function closeDiscoClient(client: DiscoClient): void {
  sockets.get(client)?.();
}
