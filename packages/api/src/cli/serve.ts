import { existsSync } from 'node:fs';
import { isPostgresUrl } from '../db/client.js';
import { defaultDb, startServer, type ServerOptions } from '../server.js';
import { CliError, integerOption, optionalString, parseCommand, UsageError } from './args.js';
import { parseTrustedProxy, type TrustProxy } from '../http/client-address.js';
import { parseIceServers } from './ice-servers.js';
import { processIo, type CliIo } from './output.js';

export const serveUsage = `Usage: disco serve [options]

Starts the Disco API (tRPC at /trpc, binary weight routes at /v1, GET /healthz).

Options:
  --host <host>           interface to listen on (default 127.0.0.1)
  --port <port>           port, 0 for any free one (default 8080, env DISCO_PORT)
  --db <file|url>         the database (env DISCO_DB): a SQLite file (default ./.disco/disco.sqlite),
                          or a PostgreSQL URL, postgres://user:password@host:5432/name, for several
                          instances on one database; migrations are applied at start
  --db-pool-size <n>      PostgreSQL: connections this instance opens (default 10, env
                          DISCO_DB_POOL_SIZE), plus one that listens for the other instances' notifications
  --admin-token <token>   token for creating and deleting tasks (env DISCO_ADMIN_TOKEN);
                          generated and printed once when not given
  --cors <origin,...>     origins allowed to call the API from a browser (env DISCO_CORS;
                          default: same origin only; "*" for any)
  --static <dir>          serve this folder at / from the same origin (env DISCO_STATIC)
  --ice-servers <url,...> STUN servers for the peers of decentralized tasks (env
                          DISCO_ICE_SERVERS; default none): stun:host:port
  --turn-url <url,...>    TURN servers for those peers (env DISCO_TURN_URL): turn:host:port[?transport=udp];
                          needs --turn-secret
  --turn-secret <secret>  the TURN server's shared secret (coturn use-auth-secret / static-auth-secret;
                          env DISCO_TURN_SECRET): each peer gets its own credentials, valid --turn-ttl
  --turn-ttl <seconds>    lifetime of those credentials (env DISCO_TURN_TTL; default 43200, 12 h)
  --trust-proxy <n|list>  behind reverse proxies: the number of proxy hops to trust, or their addresses
                          and subnets (10.0.0.1,10.0.0.0/8,::1); the client address is then read from
                          X-Forwarded-For from the right (env DISCO_TRUST_PROXY; default: none, the
                          socket's peer is the client)
  --allowed-hosts <h,...> host names this server answers to besides IP addresses, localhost and --host
                          (env DISCO_ALLOWED_HOSTS; ".example.org" with its subdomains, "*" for any):
                          protection against DNS rebinding; list the public name behind a proxy
  -h, --help              show this help`;

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  db: { type: 'string' },
  'db-pool-size': { type: 'string' },
  'admin-token': { type: 'string' },
  cors: { type: 'string' },
  static: { type: 'string' },
  'ice-servers': { type: 'string' },
  'turn-url': { type: 'string' },
  'turn-secret': { type: 'string' },
  'turn-ttl': { type: 'string' },
  'trust-proxy': { type: 'string' },
  'allowed-hosts': { type: 'string' },
} as const;

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

/** `--trust-proxy`: a number of hops, or a list of addresses and subnets. */
function trustProxyOption(text: string | undefined): TrustProxy | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const entries = list(text);
  for (const entry of entries)
    try {
      parseTrustedProxy(entry);
    } catch (error) {
      throw new UsageError(`--trust-proxy: ${(error as Error).message}, or a number of hops`, serveUsage);
    }
  return entries;
}

/** `disco serve` options from the command line, then the environment, then the defaults. */
export function serveOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): { help: true } | { help: false; options: ServerOptions } {
  const { values, help } = parseCommand(argv, options, serveUsage);
  if (help) return { help: true };
  const portValues = { port: optionalString(values, 'port') ?? env.DISCO_PORT };
  const port = integerOption(portValues, 'port', serveUsage, { min: 0, fallback: 8080 })!;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`, serveUsage);
  const cors = (optionalString(values, 'cors') ?? env.DISCO_CORS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of cors)
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin))
      throw new UsageError(`--cors: "${origin}" is not an origin (scheme://host[:port], no path) or "*"`, serveUsage);
  const turnUrls = list(optionalString(values, 'turn-url') ?? env.DISCO_TURN_URL);
  const turnSecret = optionalString(values, 'turn-secret') ?? (env.DISCO_TURN_SECRET || undefined);
  for (const url of turnUrls)
    if (!/^turns?:[^\s@]+$/.test(url)) throw new UsageError(`--turn-url: "${url}" is not a turn: or turns: URL without credentials (turn:host:port)`, serveUsage);
  if (turnUrls.length && !turnSecret) throw new UsageError('--turn-url needs --turn-secret (the TURN server\'s static-auth-secret)', serveUsage);
  if (turnSecret && !turnUrls.length) throw new UsageError('--turn-secret needs --turn-url (the TURN servers it is the secret of)', serveUsage);
  const ttlValues = { 'turn-ttl': optionalString(values, 'turn-ttl') ?? env.DISCO_TURN_TTL };
  const ttlSeconds = integerOption(ttlValues, 'turn-ttl', serveUsage, { min: 60, fallback: 12 * 3600 })!;
  const allowedHosts = list(optionalString(values, 'allowed-hosts') ?? env.DISCO_ALLOWED_HOSTS);
  const db = optionalString(values, 'db') ?? (env.DISCO_DB || undefined) ?? defaultDb;
  const poolValues = { 'db-pool-size': optionalString(values, 'db-pool-size') ?? (env.DISCO_DB_POOL_SIZE || undefined) };
  const dbPoolSize = integerOption(poolValues, 'db-pool-size', serveUsage, { min: 1 });
  if (dbPoolSize !== undefined && !isPostgresUrl(db)) throw new UsageError('--db-pool-size is for a PostgreSQL database (--db postgres://…); SQLite has one connection', serveUsage);
  return {
    help: false,
    options: {
      host: optionalString(values, 'host') ?? env.DISCO_HOST ?? '127.0.0.1',
      port,
      db,
      ...(dbPoolSize !== undefined && { dbPoolSize }),
      adminToken: optionalString(values, 'admin-token') ?? (env.DISCO_ADMIN_TOKEN || undefined),
      cors,
      staticDir: optionalString(values, 'static') ?? (env.DISCO_STATIC || undefined),
      iceServers: parseIceServers(optionalString(values, 'ice-servers') ?? env.DISCO_ICE_SERVERS ?? '', serveUsage),
      ...(turnSecret && { turn: { urls: turnUrls, secret: turnSecret, ttlSeconds } }),
      trustProxy: trustProxyOption(optionalString(values, 'trust-proxy') ?? env.DISCO_TRUST_PROXY),
      allowedHosts,
    },
  };
}

/** The engine and where, without a password: `PostgreSQL postgres://disco@db:5432/disco`, `SQLite ./.disco/disco.sqlite`. */
export function describeDb(db: string): string {
  if (!isPostgresUrl(db)) return `SQLite ${db}`;
  try {
    const url = new URL(db);
    if (url.password) url.password = '';
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * `disco serve`: starts the API, prints `Disco API listening on <url>` once it accepts connections, and
 * runs until SIGINT/SIGTERM (or `signal`), then closes cleanly. Resolves to the exit code.
 */
export async function serveCommand(argv: string[], io: CliIo = processIo, signal?: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = serveOptions(argv);
  } catch (error) {
    io.err(`disco: ${(error as Error).message}`);
    if (error instanceof UsageError) io.err(`\n${error.usage}`);
    return error instanceof CliError ? error.exitCode : 2;
  }
  if (parsed.help) {
    io.out(serveUsage);
    return 0;
  }
  const staticDir = parsed.options.staticDir;
  if (staticDir && !existsSync(staticDir)) io.err(`disco: warning: the static folder ${staticDir} does not exist (build the portal first); serving the API only`);
  let server;
  try {
    server = await startServer(parsed.options);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message =
      code === 'EADDRINUSE'
        ? `port ${parsed.options.port} is already in use (choose another with --port, or 0 for any free one)`
        : (error as Error).message;
    io.err(`disco: cannot start the server: ${message}`);
    return 1;
  }
  io.out(`Database: ${describeDb(parsed.options.db!)}`);
  if (server.seeded.length) io.out(`Seeded the built-in tasks: ${server.seeded.join(', ')}`);
  if (!parsed.options.adminToken) io.out(`Admin token (generated for this run, shown once): ${server.adminToken}`);
  io.out(`Disco API listening on ${server.url}`);
  if (['0.0.0.0', '::'].includes(parsed.options.host ?? '') && !parsed.options.allowedHosts?.length)
    io.err('disco: note: requests are answered for IP addresses and localhost only; name the host names clients use with --allowed-hosts');

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
  });
  io.out('Disco API stopping…');
  await server.close();
  io.out('Disco API stopped');
  return 0;
}
