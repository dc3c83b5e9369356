import type { TransferStats } from '@disco/core';
import { createDiscoClient, serverOrigin, webSocketClass, type DiscoClient, type TransportOptions, type WebSocketLike } from './trpc.js';

/** Bytes of a request body or a WebSocket message as it goes on the wire (strings as UTF-8). */
function byteLength(data: unknown): number {
  if (typeof data === 'string') return new TextEncoder().encode(data).byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return 0;
}

/**
 * A `fetch` and a `WebSocket` class that count traffic into `stats`. This is the one definition of the
 * bytes a session reports (`done.stats`, the CLI's JSON lines, `<disco-train>`'s figures): every byte of
 * HTTP request and response bodies and of WebSocket messages, both ways; headers and TLS framing are not
 * counted. The browser's training worker reports the figures of the page's port, so both agree.
 */
export function countingTransport(stats: TransferStats, options: TransportOptions = {}): Required<Pick<TransportOptions, 'fetch'>> & { WebSocket: WebSocketLike | undefined } {
  const rawFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  const countingFetch: typeof fetch = async (input, init) => {
    stats.bytesSent += byteLength(init?.body);
    const response = await rawFetch(input, init);
    const body = await response.arrayBuffer();
    stats.bytesReceived += body.byteLength;
    // 204/205/304 must be rebuilt without a body (the Response constructor refuses one).
    const nullBody = [101, 204, 205, 304].includes(response.status);
    return new Response(nullBody ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  const BaseWebSocket = webSocketClass(options.WebSocket);
  const CountingWebSocket = BaseWebSocket
    ? class CountingWebSocket extends BaseWebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols);
          this.addEventListener('message', (event: MessageEvent) => void (stats.bytesReceived += byteLength(event.data)));
        }
        override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
          stats.bytesSent += byteLength(data);
          super.send(data);
        }
      }
    : undefined;
  return { fetch: countingFetch, WebSocket: CountingWebSocket };
}

/** What a port over a server needs: its origin, a counting transport and the typed client over it. */
export interface CountedConnection {
  base: string;
  stats: TransferStats;
  fetch: typeof fetch;
  client: DiscoClient;
}

/** A typed client of the server at `url` whose traffic is counted into a fresh `stats` (what each port exposes). */
export function countedConnection(url: string, options: TransportOptions = {}): CountedConnection {
  const base = serverOrigin(url);
  const stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  const transport = countingTransport(stats, options);
  return { base, stats, fetch: transport.fetch, client: createDiscoClient(base, transport) };
}

/** Per-call options carrying a participant's token. */
export function asParticipant(token: string): { context: { token: string } } {
  return { context: { token } };
}
