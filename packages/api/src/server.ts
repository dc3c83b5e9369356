import { existsSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { WebSocketServer } from 'ws';
import { builtinTasks as coreBuiltinTasks, initBackend, type Task } from '@disco/core';
import { openDb, type OpenDb } from './db/client.js';
import { clientAddressOf, type TrustProxy } from './http/client-address.js';
import { createCors } from './http/cors.js';
import { createHostCheck } from './http/hosts.js';
import { handleBinaryRoute, isBinaryRoute } from './http/binary-routes.js';
import { sendJson } from './http/respond.js';
import { createStatic } from './http/static.js';
import { appRouter } from './router.js';
import { RoundEvents } from './services/events.js';
import { coreModelToolkit, type ModelToolkit } from './services/model-toolkit.js';
import { RateLimiter } from './services/rate-limit.js';
import { defaultTimings, RoundCoordinator, type RoundTimings } from './services/rounds/coordinator.js';
import { SubscriptionLimits } from './services/subscriptions.js';
import { seedBuiltinTasks } from './services/tasks.js';
import { bearerToken, newToken } from './services/tokens.js';
import type { IceServer } from '@disco/core';
import type { AppDeps, Context, TurnConfig } from './trpc.js';

export interface ServerOptions {
  /** Interface to listen on (default `127.0.0.1`: only this machine). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /**
   * The database: a PostgreSQL URL (`postgres://user:password@host:5432/name`, for several instances on one
   * database), or a SQLite file (default `./.disco/disco.sqlite`), created with its folder; `:memory:` for a
   * throw-away one. Migrations are applied at start.
   */
  db?: string;
  /** The same as `db` (its former name, for a SQLite file); `db` wins when both are given. */
  dbPath?: string;
  /** PostgreSQL: connections in this instance's pool (default 10), besides one that listens for notifications. */
  dbPoolSize?: number;
  /** Token for creating and deleting tasks; one is generated when omitted (read it from the result). */
  adminToken?: string;
  /** Origins allowed to call the API from a browser (CORS allow-list); `['*']` for any. Default: same origin only. */
  cors?: string[];
  /** A folder served at `/` from the same origin (the demo portal). */
  staticDir?: string;
  /** STUN/TURN servers handed as they are to peers of decentralized tasks (none by default). */
  iceServers?: IceServer[];
  /**
   * TURN servers whose credentials are made per participant as it joins a decentralized task, from the
   * secret shared with the TURN server (coturn `use-auth-secret`); `ttlSeconds` default 12 h.
   */
  turn?: Omit<TurnConfig, 'ttlSeconds'> & { ttlSeconds?: number };
  /** Round timings (heartbeats, deadlines, scheduler); tests shorten them. */
  timings?: Partial<RoundTimings>;
  limits?: {
    /** Joins allowed per client address per minute (default 120). */
    joinsPerMinute?: number;
    /** Largest tRPC request (default 1 MiB), except task creation. */
    maxRequestBytes?: number;
    /** Largest task creation request, uploaded model included (default 256 MiB). */
    maxTaskUploadBytes?: number;
    /** Largest WebSocket message (default 1 MiB). */
    maxWsPayloadBytes?: number;
    /**
     * Memory for the updates a strategy that keeps every update (median, trimmed mean, Krum) buffers in a
     * round of one task (default 1 GiB): such a task takes at most this ÷ (4 bytes × its parameters)
     * participants, and refuses more joins with CONFLICT. FedAvg streams and has no such bound.
     */
    maxBufferedUpdateBytes?: number;
    /**
     * Batched tRPC calls in one WebSocket message (default 256: the client batches what it sends in one tick,
     * e.g. every subscription of a connection when it reconnects). HTTP batching is off (the typed client does not batch).
     */
    maxWsBatch?: number;
    /** Subscriptions one WebSocket connection may hold open (default 256: a client multiplexes its participants on one). */
    maxSubscriptionsPerConnection?: number;
    /** Subscriptions one participant token may hold open, over every connection (default 8). */
    maxSubscriptionsPerToken?: number;
    /** WebRTC signals one participant may send per minute (default 600). */
    maxSignalsPerMinute?: number;
    /** Bytes of undelivered signals one decentralized task may hold (default 8 MiB). */
    maxSignalBytesPerTask?: number;
  };
  /** Built-in tasks seeded on first start (default: `@disco/core`'s); `false` seeds none. */
  builtinTasks?: readonly Task[] | false;
  /** Where models are built and uploaded models loaded (default: `@disco/core` with TF.js). */
  modelToolkit?: ModelToolkit;
  /**
   * Behind reverse proxies: the number of proxy hops to trust, or their addresses and subnets; the client
   * address is then read from `X-Forwarded-For` from the right (see `http/client-address.ts`). Default: none.
   */
  trustProxy?: TrustProxy;
  /**
   * Host names the server answers to (the `Host` header), against DNS rebinding; `['*']` for any. IP
   * addresses, `localhost` and the listen host are always allowed; `.example.org` allows its subdomains too.
   */
  allowedHosts?: string[];
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  /** The admin token (the one given, or the generated one). */
  adminToken: string;
  /** The built-in tasks seeded by this start (empty after the first start). */
  seeded: string[];
  deps: AppDeps;
  /** Stops accepting, closes every connection and the database. */
  close(): Promise<void>;
}

const defaultLimits = {
  joinsPerMinute: 120,
  maxRequestBytes: 1024 * 1024,
  maxTaskUploadBytes: 256 * 1024 * 1024,
  maxWsPayloadBytes: 1024 * 1024,
  maxWsBatch: 256,
  maxSubscriptionsPerConnection: 256,
  maxSubscriptionsPerToken: 8,
};

/** The application without its HTTP server: database (migrated), services, recovered rounds, seeded tasks. */
export interface App {
  deps: AppDeps;
  database: OpenDb;
  seeded: string[];
  limits: typeof defaultLimits;
  /** Stops the scheduler and closes the database. */
  close(): Promise<void>;
}

/** Where the server keeps its data when no database is given. */
export const defaultDb = './.disco/disco.sqlite';

/**
 * Builds what the procedures need (used by {@link startServer}; tests call procedures on it with
 * `createCaller({ deps, token, address })`). Starts the round scheduler.
 */
export async function createApp(options: Omit<ServerOptions, 'host' | 'port' | 'cors' | 'staticDir' | 'trustProxy' | 'allowedHosts'> = {}): Promise<App> {
  const adminToken = options.adminToken ?? newToken();
  const timings: RoundTimings = { ...defaultTimings, ...options.timings };
  const limits = { ...defaultLimits, ...options.limits };
  const toolkit = options.modelToolkit ?? coreModelToolkit;
  // TF.js is only needed to build or load models; the default toolkit needs its backend chosen first.
  if (!options.modelToolkit) await initBackend();

  const database = await openDb(options.db ?? options.dbPath ?? defaultDb, { poolSize: options.dbPoolSize });
  const events = new RoundEvents();
  const coordinator = new RoundCoordinator(database.db, events, timings, Date.now, limits.maxBufferedUpdateBytes, database.notifier);
  const deps: AppDeps = {
    db: database.db,
    notifier: database.notifier,
    coordinator,
    events,
    toolkit,
    adminToken,
    joinLimiter: new RateLimiter(limits.joinsPerMinute, 60_000),
    iceServers: options.iceServers ?? [],
    turn: options.turn && { ttlSeconds: 12 * 3600, ...options.turn },
    subscriptions: new SubscriptionLimits(limits.maxSubscriptionsPerConnection, limits.maxSubscriptionsPerToken),
    signalling: {
      ...(limits.maxSignalsPerMinute !== undefined && { maxSignalsPerMinute: limits.maxSignalsPerMinute }),
      ...(limits.maxSignalBytesPerTask !== undefined && { maxSignalBytesPerTask: limits.maxSignalBytesPerTask }),
    },
  };
  try {
    await coordinator.start();
    const builtins = options.builtinTasks === false ? [] : (options.builtinTasks ?? coreBuiltinTasks);
    const seeded = await seedBuiltinTasks(database.db, deps, builtins);
    let closing: Promise<void> | undefined;
    return {
      deps,
      database,
      seeded,
      limits,
      close() {
        return (closing ??= (async () => {
          await coordinator.stop();
          await database.close();
        })());
      },
    };
  } catch (error) {
    await coordinator.stop();
    await database.close();
    throw error;
  }
}

/**
 * Starts the Disco API: tRPC at `/trpc` (HTTP, and WebSocket on the same port for subscriptions), the
 * binary weight routes under `/v1/`, `GET /healthz`, and the static portal when `staticDir` is given.
 * Applies the database migrations, recovers interrupted rounds and seeds the built-in tasks first.
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0, db: ':memory:', adminToken: 'secret' });
 * console.log(server.url); // http://127.0.0.1:41234
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const app = await createApp(options);
  const { deps, database, limits } = app;
  const clientAddress = clientAddressOf(options.trustProxy);
  const createContext = ({ req, info }: { req: IncomingMessage; info?: { connectionParams?: Record<string, string | undefined> | null } }): Context => ({
    deps,
    token: bearerToken(req.headers.authorization) ?? info?.connectionParams?.token ?? null,
    address: clientAddress(req),
    // For a WebSocket, the context is made once per connection: its upgrade request identifies it.
    connection: req,
  });
  // No HTTP batching: one small GET of 1,400 batched calls would answer megabytes and block the event loop.
  const trpc = createHTTPHandler({ router: appRouter, basePath: '/trpc/', createContext, maxBodySize: limits.maxRequestBytes, allowBatching: false });
  const trpcUpload = createHTTPHandler({ router: appRouter, basePath: '/trpc/', createContext, maxBodySize: limits.maxTaskUploadBytes, allowBatching: false });
  const cors = createCors(options.cors ?? []);
  const hostAllowed = createHostCheck(host, options.allowedHosts ?? []);
  // Indexed once at start; a missing folder is the CLI's warning, not a failure.
  const serveStatic = options.staticDir && existsSync(options.staticDir) ? createStatic(options.staticDir) : null;

  const server = http.createServer((req, res) => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return sendJson(res, 400, { code: 'BAD_REQUEST', message: 'malformed request URL' });
    }
    try {
      const refusal = hostAllowed(req.headers.host);
      if (refusal) return sendJson(res, 403, { code: 'FORBIDDEN', message: refusal });
      if (!cors(req, res)) return;
      if (pathname === '/healthz') {
        database.ping().then(
          () => sendJson(res, 200, { ok: true }),
          (error: Error) => sendJson(res, 503, { code: 'SERVICE_UNAVAILABLE', message: `database unreachable: ${error.message}` }),
        );
        return;
      }
      if (pathname.startsWith('/trpc/')) {
        // Only task creation may carry a model upload; every other call is small.
        const procedures = pathname.slice('/trpc/'.length).split(',');
        return (procedures.length === 1 && procedures[0] === 'tasks.create' ? trpcUpload : trpc)(req, res);
      }
      if (isBinaryRoute(pathname)) return void handleBinaryRoute(deps, req, res, pathname);
      if (serveStatic?.(req, res, pathname)) return;
      sendJson(res, 404, { code: 'NOT_FOUND', message: `no route ${req.method} ${pathname}` });
    } catch (error) {
      console.error('disco: request failed', error);
      sendJson(res, 500, { code: 'INTERNAL_SERVER_ERROR', message: 'internal server error' });
    }
  });
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxWsPayloadBytes });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
    maxBatchSize: limits.maxWsBatch,
  });
  server.on('upgrade', (req, socket, head) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const refusal = hostAllowed(req.headers.host);
    if (refusal) {
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${refusal}`);
      return;
    }
    if (!(pathname === '/trpc' || pathname.startsWith('/trpc/')) || !cors.allowsUpgrade(req)) {
      socket.end(`HTTP/1.1 ${pathname.startsWith('/trpc') ? '403 Forbidden' : '404 Not Found'}\r\nconnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    wss.close();
    await app.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    adminToken: deps.adminToken,
    seeded: app.seeded,
    deps,
    close() {
      closing ??= (async () => {
        await deps.coordinator.stop();
        wsHandler.broadcastReconnectNotification();
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await app.close();
      })();
      return closing;
    },
  };
}
