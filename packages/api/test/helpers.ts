import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import WebSocket from 'ws';
import { closeDiscoClient, createDiscoClient, createFederationApi } from '@disco/client';
import { encodeWeights, parseTask, type FederationApi, type FlatWeights, type JoinResult, type Task, type TaskInput } from '@disco/core';
import { createApp, startServer, type App, type RunningServer, type ServerOptions } from '../src/server.js';
import type { ModelToolkit } from '../src/services/model-toolkit.js';
import { parseUploadedModel } from '../src/services/model-toolkit.js';
import { startPostgres, type PostgresCluster } from './support/postgres.js';

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'disco-api-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The engine the servers and apps of this test process run on: SQLite (default), or PostgreSQL with
 * `DISCO_TEST_DB=postgres` (`npm test`'s "api (postgres)" pass), on a throwaway cluster of this process.
 */
export const TEST_DB: 'sqlite' | 'postgres' = process.env.DISCO_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

let cluster: Promise<{ cluster: PostgresCluster; template: string }> | undefined;
let databases = 0;

/**
 * The PostgreSQL cluster of this test process, started at first use (stopped after its last test) with a
 * template database the server's own migrations were applied to, so that each fresh database is a file copy.
 */
export function testCluster(): Promise<{ cluster: PostgresCluster; template: string }> {
  return (cluster ??= (async () => {
    const started = await startPostgres({ database: 'disco_template' });
    try {
      const { openDb } = await import('../src/db/client.js');
      const migrated = await openDb(started.url);
      await migrated.close();
    } catch (error) {
      await started.stop();
      throw error;
    }
    return { cluster: started, template: 'disco_template' };
  })());
}
// Root-level: after every test of the file that imported this module (the servers are closed by then).
after(async () => {
  if (cluster) await (await cluster.catch(() => undefined))?.cluster.stop();
});

/**
 * A new, migrated and empty database for one server or app: a SQLite file in `dir`, or a PostgreSQL database
 * of this process's cluster (its URL), as `DISCO_TEST_DB` says. What `createApp`'s `db` option takes.
 */
export async function freshDb(dir: string, name = 'disco'): Promise<string> {
  if (TEST_DB === 'sqlite') return path.join(dir, `${name}.sqlite`);
  const { cluster: c, template } = await testCluster();
  return c.createDatabase(`test_${process.pid}_${++databases}`, { template });
}

/**
 * Rows of a raw SQL query on a database (a SQLite path or a PostgreSQL URL), for checks of what is stored.
 * Write `?` placeholders and portable SQL; quote camelCase aliases (`AS "closedAt"`). PostgreSQL's bigints
 * (count(*), `*_at`) come back as numbers, as SQLite's integers do.
 */
export async function sqlRows<T>(db: string, text: string, params: unknown[] = []): Promise<T[]> {
  if (!/^postgres(ql)?:\/\//.test(db)) {
    const sqlite = new Database(db);
    try {
      const statement = sqlite.prepare(text);
      return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
    } finally {
      sqlite.close();
    }
  }
  let n = 0;
  const INT8 = 20; // PostgreSQL's bigint, which node-postgres leaves as a string
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? Number : (pg.types.getTypeParser(oid, format) as unknown))) as typeof pg.types.getTypeParser;
  const client = new pg.Client({ connectionString: db, types: { getTypeParser } });
  await client.connect();
  try {
    return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Shapes of the fake model every test task has: 2×3 kernel + 3 bias = 9 parameters. */
export const SHAPES = [
  { name: 'dense/kernel', shape: [2, 3] },
  { name: 'dense/bias', shape: [3] },
];
export const INITIAL = Float32Array.from([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);

/** A model toolkit without TF.js: every built model is {@link INITIAL}; uploads keep their parsed weights. */
export const fakeToolkit: ModelToolkit = {
  async build() {
    return {
      topology: { format: 'layers-model', modelTopology: { class_name: 'Sequential', config: { name: 'fake' } } },
      weights: { values: INITIAL.slice(), shapes: SHAPES.map((s) => ({ ...s, shape: [...s.shape] })) },
    };
  },
  async loadUpload(_task, modelJson, weightsBin) {
    const parsed = parseUploadedModel(modelJson, weightsBin);
    return parsed.ok ? { ok: true, model: parsed.model } : parsed;
  },
};

/** A small valid tabular task, federated, with `overrides` applied. */
export function testTask(overrides: Partial<TaskInput> = {}): Task {
  return parseTask({
    id: 'test-task',
    title: 'A test task',
    description: 'For tests.',
    dataType: 'tabular',
    tabular: { inputColumns: ['a', 'b'], outputColumn: 'y', labels: ['no', 'yes'] },
    model: { source: 'builtin', architecture: 'tabular-mlp' },
    minParticipants: 2,
    roundDeadlineSeconds: 30,
    ...overrides,
  });
}

export const ADMIN = 'admin-secret';

/**
 * A server on 127.0.0.1:0 with a fresh database ({@link freshDb}: SQLite or PostgreSQL), the fake toolkit,
 * `tasks` seeded as built-ins. `options.db` (or its alias `dbPath`): that database instead (a restart).
 */
export async function testServer(
  options: Partial<ServerOptions> & { tasks?: Task[] } = {},
): Promise<RunningServer & { db: string; dbPath: string; cleanup(): Promise<void> }> {
  const tmp = tempDir();
  const db = options.db ?? options.dbPath ?? (await freshDb(tmp.dir));
  const server = await startServer({
    port: 0,
    db,
    adminToken: ADMIN,
    modelToolkit: fakeToolkit,
    builtinTasks: options.tasks ?? [testTask()],
    ...options,
    timings: { tickMs: 50, ...options.timings },
  });
  return {
    ...server,
    db,
    dbPath: db,
    async cleanup() {
      await server.close();
      tmp.remove();
    },
  };
}

/** A federation client of `server` (closed after the test) and `n` participants joined to `taskId`. */
export async function joinAll(server: { url: string }, n: number, t: { after(fn: () => void): void }, taskId = 'test-task'): Promise<{ api: FederationApi; joined: JoinResult[] }> {
  const api = createFederationApi(server.url, { WebSocket });
  t.after(() => api.close());
  const joined: JoinResult[] = [];
  for (let i = 0; i < n; i++) joined.push(await api.join(taskId));
  return { api, joined };
}

/**
 * An app without HTTP (call it through `createCaller`) on a fresh database ({@link freshDb}), with the fake
 * toolkit, the admin token and one test task as built-in (unless `options` says otherwise); closed and
 * removed after `t`. `db`: that database (for {@link sqlRows}).
 */
export async function testApp(t: { after(fn: () => unknown): void }, options: Parameters<typeof createApp>[0] = {}): Promise<App & { db: string }> {
  const tmp = tempDir();
  const db = await freshDb(tmp.dir);
  const app = await createApp({
    db,
    adminToken: ADMIN,
    modelToolkit: fakeToolkit,
    builtinTasks: options.builtinTasks ?? [testTask()],
    ...options,
  });
  t.after(async () => {
    await app.close();
    tmp.remove();
  });
  return Object.assign(app, { db });
}

/** Encodes a delta as a client would send it. */
export function encodeUpdate(
  values: number[] | Float32Array,
  options: { taskId?: string; modelVersion?: number; samples?: number; meta?: Record<string, number>; shapes?: FlatWeights['shapes'] } = {},
): Uint8Array {
  const weights: FlatWeights = { values: Float32Array.from(values), shapes: options.shapes ?? SHAPES };
  return encodeWeights(weights, {
    taskId: options.taskId ?? 'test-task',
    modelVersion: options.modelVersion ?? 0,
    meta: { samples: options.samples ?? 10, ...options.meta },
  });
}

/** PUTs an update through the binary route; returns the status and the JSON body. */
export async function putUpdate(
  url: string,
  token: string | null,
  round: number,
  body: Uint8Array,
  options: { taskId?: string; contentType?: string } = {},
): Promise<{ status: number; body: { code?: string; message?: string; accepted?: boolean; round?: number; submitted?: number } }> {
  const response = await fetch(`${url}/v1/tasks/${options.taskId ?? 'test-task'}/rounds/${round}/update`, {
    method: 'PUT',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': options.contentType ?? 'application/octet-stream' },
    body: body as Uint8Array<ArrayBuffer>,
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, get: () => T | Promise<T>, predicate: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await get();
    if (predicate(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The rounds of a task of a running server, newest first, as `rounds.list` returns them. */
export async function roundHistory(server: { url: string }, taskId = 'test-task') {
  const client = createDiscoClient(server.url);
  try {
    return await client.rounds.list.query({ taskId });
  } finally {
    closeDiscoClient(client);
  }
}

/** What the database holds of round 1 of a task: every update row, and the round's count (read straight from the database). */
export async function storedUpdates(server: { db: string }, taskId = 'test-task'): Promise<{ updates: number; submitted: number }> {
  const [{ n }] = await sqlRows<{ n: number }>(server.db, 'SELECT count(*) AS n FROM updates');
  const [{ submitted }] = await sqlRows<{ submitted: number }>(server.db, 'SELECT submitted FROM rounds WHERE task_id = ? AND number = 1', [taskId]);
  return { updates: n, submitted };
}

export { WebSocket };
