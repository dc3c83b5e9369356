/**
 * The vocabulary of refusals shared by the server, its clients and the in-memory fakes: one stable
 * machine-readable `code` per problem, each with the HTTP status the server answers it with. The server
 * throws {@link DiscoApiError}s; `@disco/client` turns tRPC errors and binary-route bodies back into the
 * same class, so that a client (and a retry rule) sees one type wherever the error came from.
 */
export const apiErrorStatus = {
  BAD_REQUEST: 400,
  MALFORMED_WEIGHTS: 400,
  NON_FINITE: 400,
  SHAPE_MISMATCH: 400,
  WRONG_TASK: 400,
  BAD_META: 400,
  SCHEME_MISMATCH: 400,
  INVALID_TASK: 400,
  INVALID_MODEL: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  WRONG_ROUND: 409,
  STALE_MODEL: 409,
  /** Asynchronous tasks: the update's base model is more than `maxStaleness` versions old; the message names the current version. */
  STALE_UPDATE: 409,
  DUPLICATE_UPDATE: 409,
  ROUND_NOT_OPEN: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  /** No answer at all: the server is unreachable (status 0, as `fetch` reports a network failure). */
  NETWORK: 0,
} as const;

export type ApiErrorCode = keyof typeof apiErrorStatus;

/** Statuses worth retrying: no answer, too many requests, and the server's own failures. */
const TRANSIENT_STATUS = new Set([0, 408, 425, 429, 500, 502, 503, 504]);

/**
 * A refusal or failure of the Disco API. `code` is the precise reason (e.g. `WRONG_ROUND`), `status` its
 * HTTP status (0 when the server could not be reached), `issues` every problem as `path: reason` lines
 * when there are several (an invalid task).
 */
export class DiscoApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Every problem, for errors that have several (an invalid task). */
    readonly issues?: string[],
    /** The status actually received, when it differs from the code's (a proxy's 502, say). */
    status?: number,
  ) {
    super(message);
    this.name = 'DiscoApiError';
    this.status = status ?? apiErrorStatus[code];
  }

  /** Whether the same call may succeed later (no answer, rate limited, a server failure). */
  get transient(): boolean {
    return TRANSIENT_STATUS.has(this.status);
  }
}

/** Whether `code` is one of the API's codes (a string from the wire may be anything). */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(apiErrorStatus, code);
}

/** The code for an HTTP status that came without a known code (a proxy's error page, say). */
export function codeForStatus(status: number): ApiErrorCode {
  const known = (Object.entries(apiErrorStatus) as [ApiErrorCode, number][]).find(([, s]) => s === status);
  if (known) return known[0];
  return status >= 500 ? 'INTERNAL_SERVER_ERROR' : status === 0 ? 'NETWORK' : 'BAD_REQUEST';
}
