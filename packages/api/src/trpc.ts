import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { DiscoApiError, type IceServer } from '@disco/core';
import { z, ZodError } from 'zod';
import type { Db, Notifier } from './db/client.js';
import type { RoundEvents } from './services/events.js';
import type { ModelToolkit } from './services/model-toolkit.js';
import { authenticate, type ParticipantRow } from './services/participants.js';
import type { RateLimiter } from './services/rate-limit.js';
import type { RoundCoordinator } from './services/rounds/coordinator.js';
import type { SignallingOptions } from './services/signalling.js';
import type { SubscriptionLimits } from './services/subscriptions.js';
import { sameSecret } from './services/tokens.js';

/** What the procedures work with; built once by `startServer` (or by a test). */
export interface AppDeps {
  db: Db;
  /** Notifications between the instances on one database (`openDb`): round changes, peer signals. */
  notifier: Notifier;
  coordinator: RoundCoordinator;
  events: RoundEvents;
  toolkit: ModelToolkit;
  adminToken: string;
  joinLimiter: RateLimiter;
  /** STUN/TURN servers handed to every peer as they are. */
  iceServers: IceServer[];
  /** TURN servers that get short-lived credentials per participant (`--turn-secret`): see `services/turn.ts`. */
  turn?: TurnConfig;
  subscriptions: SubscriptionLimits;
  /** Signalling limits and timings other than the defaults (`services/signalling.ts`). */
  signalling?: Partial<SignallingOptions>;
}

/** TURN with the REST API's shared secret (coturn `use-auth-secret`). */
export interface TurnConfig {
  urls: string[];
  secret: string;
  /** Lifetime of the credentials handed out, in seconds. */
  ttlSeconds: number;
}

/** Per-request context: the dependencies, the bearer token if any, and the client's address. */
export interface Context {
  deps: AppDeps;
  /** From `Authorization: Bearer <token>` (HTTP) or the WebSocket's `connectionParams.token`. */
  token: string | null;
  address: string;
  /** The WebSocket connection (its upgrade request) a subscription comes on, for the per-connection cap. */
  connection?: object;
}

/** Stack traces (with absolute paths) only when asked for: NODE_ENV=development. */
const showStacks = process.env.NODE_ENV === 'development';

const t = initTRPC.context<Context>().create({
  // Subscriptions go over the WebSocket only (where they are counted per connection), not server-sent events.
  sse: { enabled: false },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const { stack, ...data } = shape.data;
    return {
      ...shape,
      data: {
        ...data,
        ...(showStacks && stack ? { stack } : {}),
        // Every field's problem at once, for forms: { formErrors, fieldErrors }.
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
        /** The service's precise code (e.g. WRONG_ROUND, INVALID_TASK), beside tRPC's generic one. */
        apiCode: cause instanceof DiscoApiError ? cause.code : null,
        issues: cause instanceof DiscoApiError ? (cause.issues ?? null) : null,
      },
    };
  },
});

const trpcCodes: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** Maps a service error onto the tRPC error of the same HTTP status, keeping it as the cause. */
export function toTRPCError(error: DiscoApiError): TRPCError {
  return new TRPCError({ code: trpcCodes[error.status] ?? 'INTERNAL_SERVER_ERROR', message: error.message, cause: error });
}

const serviceErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DiscoApiError) throw toTRPCError(result.error.cause);
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Subscriptions hold a slot of their connection and token (`SubscriptionLimits`) until they end. */
const subscriptionSlots = t.middleware(async ({ ctx, type, getRawInput, signal, next }) => {
  if (type !== 'subscription') return next();
  const raw = (await getRawInput()) as { token?: unknown } | undefined;
  const token = typeof raw?.token === 'string' ? raw.token : ctx.token;
  const release = ctx.deps.subscriptions.acquire(ctx.connection, token);
  signal?.addEventListener('abort', release, { once: true });
  let result;
  try {
    result = await next();
  } catch (error) {
    release();
    throw error;
  }
  if (!result.ok) {
    release();
    return result;
  }
  const stream = result.data as AsyncIterable<unknown>;
  return {
    ...result,
    data: (async function* () {
      try {
        yield* stream;
      } finally {
        release();
      }
    })(),
  };
});

/** Anyone may call it. */
export const publicProcedure = t.procedure.use(serviceErrors).use(subscriptionSlots);

/** Needs a participant's bearer token; adds `ctx.participant`. */
export const participantProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const participant: ParticipantRow = await authenticate(ctx.deps.db, ctx.token);
  return next({ ctx: { participant } });
});

/** Needs the server's admin token (`Authorization: Bearer <admin token>`). */
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.token) throw new DiscoApiError('UNAUTHORIZED', 'this needs the admin token (Authorization: Bearer <admin token>)');
  if (!sameSecret(ctx.token, ctx.deps.adminToken)) throw new DiscoApiError('FORBIDDEN', 'wrong admin token');
  return next();
});
