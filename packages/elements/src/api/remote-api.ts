import { createDiscoClient, createFederationApi, createSignallingApi, toDiscoApiError, type DiscoClient } from '@disco/api/client';
import type { FederationApi, SignallingApi, Task, TaskInput } from '@disco/core';
import { DiscoApiError, type DiscoApi, type DiscoApiErrorCode, type ModelUpload, type ModelVersionInfo, type RoundInfo, type TaskSummary } from './disco-api.js';

const clients = new Map<string, DiscoApi>();

/**
 * One shared {@link DiscoApi} per server URL, so that the elements of a page share their connections. A
 * relative URL (`/`, `.`) is resolved against the page: the page's own origin serving the API.
 */
export function remoteApiFor(server: string): DiscoApi {
  const absolute = typeof document === 'undefined' ? server : new URL(server, document.baseURI).href;
  const url = absolute.replace(/\/+$/, '');
  let api = clients.get(url);
  if (!api) clients.set(url, (api = createRemoteApi(url)));
  return api;
}

/**
 * A {@link DiscoApi} over a real Disco server (`disco serve`), through the typed tRPC client and the
 * federation port of `@disco/api/client`. `url` is the server's origin, e.g. `https://disco.example.org`;
 * another origin works when the server's CORS allow-list names the page's.
 */
export function createRemoteApi(url: string): DiscoApi {
  let client: DiscoClient | undefined;
  let federation: FederationApi | undefined;
  let peers: SignallingApi | undefined;
  const trpc = () => (client ??= createDiscoClient(url));
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw fromServerError(error, url);
    }
  };

  return {
    listTasks: () =>
      call(async () =>
        (await trpc().tasks.list.query()).map(
          (s): TaskSummary => ({
            id: s.task.id,
            title: s.task.title,
            dataType: s.task.dataType,
            scheme: s.task.scheme,
            participants: s.participants,
            rounds: s.roundsClosed,
          }),
        ),
      ),

    getTask: (taskId) => call(async () => (await trpc().tasks.get.query({ id: taskId })).task as Task),

    createTask: (task: TaskInput, options: { adminToken: string; model?: ModelUpload }) =>
      call(async () => {
        const model = options.model && { modelJson: options.model.modelJson as Record<string, unknown>, weightsBase64: toBase64(options.model.weights) };
        const created = await trpc().tasks.create.mutate({ task, ...(model && { model }) }, { context: { token: options.adminToken } });
        return created.task as Task;
      }),

    listRounds: (taskId) =>
      call(async () =>
        (await trpc().rounds.list.query({ taskId })).map(
          (r): RoundInfo => ({
            round: r.number,
            state: r.phase,
            participants: r.participants,
            samples: r.samples,
            metrics: r.metrics ?? undefined,
            durationMs: r.durationMs ?? undefined,
            modelVersion: r.modelVersion ?? undefined,
          }),
        ),
      ),

    listModels: (taskId) =>
      call(async () =>
        (await trpc().models.list.query({ taskId })).map(
          (m): ModelVersionInfo => ({ version: m.version, round: m.round ?? undefined, createdAt: m.createdAt, sizeBytes: m.bytes }),
        ),
      ),

    federation: async () => (federation ??= createFederationApi(url)),

    peers: async () => (peers ??= createSignallingApi(url)),

    close: () => {
      federation?.close();
      federation = undefined;
      peers?.close();
      peers = undefined;
    },
  };
}

const STATUS_CODES: Record<number, DiscoApiErrorCode> = { 400: 'invalid', 401: 'unauthorized', 403: 'unauthorized', 404: 'not-found', 409: 'conflict', 422: 'invalid' };

/** A server's refusal (`@disco/api/client`'s error, with an HTTP status and `path: reason` issues) or a network failure → {@link DiscoApiError}. */
function fromServerError(thrown: unknown, url: string): DiscoApiError {
  if (thrown instanceof DiscoApiError) return thrown;
  const unreachable = thrown instanceof TypeError || (thrown as { cause?: unknown } | null)?.cause instanceof TypeError;
  const e = toDiscoApiError(thrown) as { status?: unknown; issues?: unknown; message?: unknown };
  const status = typeof e.status === 'number' ? e.status : 0;
  const issues = Array.isArray(e.issues) ? e.issues.map(String) : [];
  const message = typeof e.message === 'string' ? e.message : String(thrown);
  if (status === 0 && (unreachable || /fetch|network/i.test(message)))
    return new DiscoApiError('network', `Cannot reach the Disco server at ${url} (${message}).`);
  return new DiscoApiError(STATUS_CODES[status] ?? (status >= 500 ? 'server' : status === 0 ? 'network' : 'invalid'), message, issues);
}

function toBase64(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
