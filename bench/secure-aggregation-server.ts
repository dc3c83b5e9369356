// A Disco server for the secure-aggregation bench, in its own process so that its CPU time can be read alone
// (/proc/<pid>/stat): for each n of SIZES (comma-separated), a plain task `plain-<n>` and a secure one
// `secure-<n>` (clipping norm 1, at most 100 examples an update, minParticipants = n), both FedAvg over a
// PARAMS-parameter model from a fake toolkit (no TF.js model is built). Prints `{"url": ...}` once listening;
// stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTask } from '@disco/core';
import { startServer } from '@disco/api';

const params = Number(process.env.PARAMS ?? 1_000_000);
const sizes = (process.env.SIZES ?? '4,8,16').split(',').map(Number);
const dir = mkdtempSync(path.join(tmpdir(), 'disco-bench-'));
const side = Math.round(Math.sqrt(params));
const shapes = [{ name: 'dense/kernel', shape: [side, params / side] }];
const task = (id: string, n: number, secure: boolean) =>
  parseTask({
    id,
    title: `Secure aggregation bench (${id})`,
    description: 'Synthetic updates of one big model.',
    dataType: 'tabular',
    tabular: { inputColumns: ['a'], outputColumn: 'y', labels: ['0', '1'] },
    model: { source: 'builtin', architecture: 'tabular-mlp' },
    minParticipants: n,
    roundDeadlineSeconds: 3600,
    aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 100 },
    ...(secure && { privacy: { secureAggregation: true, clippingNorm: 1 } }),
  });
const server = await startServer({
  port: 0,
  dbPath: path.join(dir, 'bench.sqlite'),
  adminToken: 'bench',
  builtinTasks: sizes.flatMap((n) => [task(`plain-${n}`, n, false), task(`secure-${n}`, n, true)]),
  limits: { joinsPerMinute: 10_000 },
  // Participants sit idle while the other task's rounds run: no one may time out meanwhile.
  timings: { heartbeatTimeoutMs: 600_000 },
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
