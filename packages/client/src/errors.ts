import { TRPCClientError } from '@trpc/client';
import { codeForStatus, DiscoApiError, isApiErrorCode } from '@disco/core';

/** What the server's tRPC error formatter adds to an error's `data` (see `packages/api/src/trpc.ts`). */
interface ServerErrorData {
  apiCode?: unknown;
  httpStatus?: unknown;
  issues?: unknown;
}

/** A failure that never reached a server (refused connection, DNS, CORS, offline). */
function isNetworkFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TypeError) return true; // what `fetch` throws when no answer came
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(ECONN|EHOST|ENET|ETIMEDOUT|EPIPE|UND_ERR)/.test(code)) return true;
  }
  return false;
}

/**
 * Any error of a call to the server as a {@link DiscoApiError}: the server's own refusal keeps its code,
 * status and issues; a failure to reach the server becomes `NETWORK` (status 0). The one conversion every
 * port of this package uses, so that a retry rule sees the same error wherever it came from.
 */
export function toDiscoApiError(error: unknown, server?: string): DiscoApiError {
  if (error instanceof DiscoApiError) return error;
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as ServerErrorData;
    const status = typeof data.httpStatus === 'number' ? data.httpStatus : 0;
    const issues = Array.isArray(data.issues) ? data.issues.map(String) : undefined;
    if (isApiErrorCode(data.apiCode)) return new DiscoApiError(data.apiCode, error.message, issues, status || undefined);
    if (status === 0 || isNetworkFailure(error)) return unreachable(error, server);
    return new DiscoApiError(codeForStatus(status), error.message, issues, status);
  }
  if (isNetworkFailure(error)) return unreachable(error, server);
  return new DiscoApiError('INTERNAL_SERVER_ERROR', error instanceof Error ? error.message : String(error), undefined, 0);
}

function unreachable(error: unknown, server: string | undefined): DiscoApiError {
  const reason = error instanceof Error ? error.message : String(error);
  return new DiscoApiError('NETWORK', server ? `Cannot reach the Disco server at ${server} (${reason}).` : `Cannot reach the Disco server (${reason}).`);
}

/** The error of a binary route's answer (`{ code, message, issues }` JSON, or a proxy's page). */
export async function responseError(response: Response): Promise<DiscoApiError> {
  let body: { code?: unknown; message?: unknown; issues?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON (a proxy's error page): keep the status line
  }
  const code = isApiErrorCode(body.code) ? body.code : codeForStatus(response.status);
  const message = typeof body.message === 'string' ? body.message : `${response.status} ${response.statusText}`;
  const issues = Array.isArray(body.issues) ? body.issues.map(String) : undefined;
  return new DiscoApiError(code, message, issues, response.status);
}

/** Runs a call, rethrowing its failure as a {@link DiscoApiError}. */
export async function calling<T>(call: () => Promise<T>, server?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDiscoApiError(error, server);
  }
}
