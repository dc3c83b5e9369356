import { DiscoApiError } from '@disco/core';
import { closeDiscoClient, createDiscoClient, responseError, serverOrigin, toDiscoApiError, type DiscoClient } from '@disco/client';
import { CliError, UsageError, type OptionValues } from './args.js';

/**
 * What the operator commands (`tasks`, `rounds`, `models`) share: the server from `--server` or
 * `DISCO_SERVER`, the admin token from `--admin-token` or `DISCO_ADMIN_TOKEN`, and the server's refusals
 * as {@link ServerError}s naming the API's error code.
 */

/** A refusal of the server: its API code (`INVALID_TASK`, `NOT_FOUND`…) and, for an invalid task, every issue. */
export class ServerError extends CliError {
  readonly issues?: string[];
  constructor(error: DiscoApiError) {
    // The server's message lists an invalid task's issues already; add them where it does not.
    const missing = (error.issues ?? []).filter((issue) => !error.message.includes(issue));
    // A refusal is prefixed with its code; NETWORK (no answer) says so in its message.
    const prefix = error.code === 'NETWORK' ? '' : `${error.code}: `;
    super(error.code, `${prefix}${error.message}${missing.map((issue) => `\n  - ${issue}`).join('')}`);
    this.name = 'ServerError';
    this.issues = error.issues;
  }
}

/** The server's URL: `--server`, else `DISCO_SERVER`, else a usage error. */
export function serverOf(values: OptionValues, usage: string): string {
  const value = typeof values.server === 'string' && values.server !== '' ? values.server : process.env.DISCO_SERVER;
  if (!value) throw new UsageError('missing --server <url> (or the DISCO_SERVER environment variable)', usage);
  if (!/^https?:\/\//.test(value)) throw new UsageError(`--server must be an http:// or https:// URL, got "${value}"`, usage);
  return serverOrigin(value);
}

/** The admin token: `--admin-token`, else `DISCO_ADMIN_TOKEN`, else a usage error naming both. */
export function adminTokenOf(values: OptionValues, usage: string, action: string): string {
  const value = typeof values['admin-token'] === 'string' && values['admin-token'] !== '' ? values['admin-token'] : process.env.DISCO_ADMIN_TOKEN;
  if (!value) throw new UsageError(`${action} needs the server's admin token: pass --admin-token <t> or set DISCO_ADMIN_TOKEN`, usage);
  return value;
}

/** Runs `call` with a tRPC client of `server` (bearer `token` if given); failures become {@link ServerError}s. */
export async function withServer<T>(server: string, token: string | undefined, call: (client: DiscoClient) => Promise<T>): Promise<T> {
  const client = createDiscoClient(server, { token });
  try {
    return await call(client);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new ServerError(toDiscoApiError(error, server));
  } finally {
    closeDiscoClient(client);
  }
}

/** GETs `path` of the server; a refusal becomes a {@link ServerError}. */
export async function download(server: string, path: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${server}${path}`);
  } catch (error) {
    throw new ServerError(toDiscoApiError(error, server));
  }
  if (!response.ok) throw new ServerError(await responseError(response));
  return response;
}

/** Rows as an aligned text table (first row: the header). */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

/** A timestamp (ms) as `YYYY-MM-DD HH:MM:SS` UTC, or '-' when absent. */
export function when(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '-';
}
