/**
 * Errors the services raise, each with a stable machine-readable `code` and the HTTP status of the binary
 * routes. tRPC procedures map them onto `TRPCError`s (see `trpc.ts`), binary routes onto `{ code, message }`
 * JSON bodies (see `http/respond.ts`).
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
  DUPLICATE_UPDATE: 409,
  ROUND_NOT_OPEN: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ApiErrorCode = keyof typeof apiErrorStatus;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Every problem, for errors that have several (an invalid task). */
    readonly issues?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = apiErrorStatus[code];
  }
}
