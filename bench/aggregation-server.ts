// A Disco server for the aggregation bench, in its own process so that its memory can be measured alone:
// one federated task whose model has PARAMS parameters (a fake toolkit: no TF.js model is built).
// Prints `{"url": ...}` once listening; stops on SIGTERM. `BENCH_DB` (a postgres:// URL) puts it on PostgreSQL
// (bench/instances.ts starts several on one database), else a SQLite file in a temporary folder;
// `BENCH_DB_POOL_SIZE` sizes its PostgreSQL pool.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTask } from '@disco/core';
import { startServer } from '@disco/api';

const params = Number(process.env.PARAMS ?? 1_000_000);
const clients = Number(process.env.CLIENTS ?? 100);
const dir = mkdtempSync(path.join(tmpdir(), 'disco-bench-'));
const side = Math.round(Math.sqrt(params));
const shapes = [{ name: 'dense/kernel', shape: [side, params / side] }];
const task = parseTask({
  id: 'bench',
  title: 'Aggregation bench',
  description: 'Many clients, one big model.',
  dataType: 'tabular',
  tabular: { inputColumns: ['a'], outputColumn: 'y', labels: ['0', '1'] },
  model: { source: 'builtin', architecture: 'tabular-mlp' },
  minParticipants: clients,
  roundDeadlineSeconds: 3600,
});
const server = await startServer({
  port: 0,
  db: process.env.BENCH_DB || path.join(dir, 'bench.sqlite'),
  ...(process.env.BENCH_DB_POOL_SIZE && { dbPoolSize: Number(process.env.BENCH_DB_POOL_SIZE) }),
  adminToken: 'bench',
  builtinTasks: [task],
  limits: { joinsPerMinute: 10_000 },
  modelToolkit: {
    build: async () => ({ topology: { format: 'layers-model', modelTopology: {} }, weights: { values: new Float32Array(params), shapes } }),
    loadUpload: async () => ({ ok: false, errors: ['not in this bench'] }),
  },
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
