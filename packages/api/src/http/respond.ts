import type { ServerResponse } from 'node:http';
import { DiscoApiError, type ApiErrorCode } from '@disco/core';

/** Sends a JSON body (the binary routes' answers and errors). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Sends `{ code, message }` (plus `issues` when there are several problems) with the error's status. */
export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  const apiError = error instanceof DiscoApiError ? error : null;
  if (!apiError) console.error('disco: unexpected error in a binary route', error);
  const code: ApiErrorCode = apiError?.code ?? 'INTERNAL_SERVER_ERROR';
  const message = apiError?.message ?? 'internal server error';
  const status = apiError?.status ?? 500;
  sendJson(res, status, { code, message, ...(apiError?.issues ? { issues: apiError.issues } : {}) }, headers);
}
