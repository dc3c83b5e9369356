// Server-side aggregation: CLIENTS clients each submit one float32 update of a PARAMS-parameter model over
// the real binary route to a server running in its own process; we time from the first submission to the
// new global version and sample the server's resident memory (/proc/<pid>/status) all along.
// Also: bytes on the wire per parameter of one update, float32 and int8 (codec framing included).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { decodeWeights, encodeWeights, type FlatWeights, type JoinResult } from '@disco/core';
import { createFederationApi } from '@disco/client';
import type { BenchResult } from './lib.js';

const PARAMS = 1_000_000;
const CLIENTS = 100;
const CONCURRENCY = 4;
const MB = 1024 * 1024;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export async function run(): Promise<BenchResult[]> {
  const side = Math.round(Math.sqrt(PARAMS));
  const shapes = [{ name: 'dense/kernel', shape: [side, PARAMS / side] }];
  const update = (i: number, dtype: 'float32' | 'int8' = 'float32') => {
    const values = new Float32Array(PARAMS);
    for (let j = 0; j < PARAMS; j++) values[j] = ((i + j) % 7) * 1e-3;
    const weights: FlatWeights = { values, shapes };
    return encodeWeights(weights, { taskId: 'bench', modelVersion: 0, dtype, meta: { samples: 10 + (i % 5), loss: 0.5, accuracy: 0.8 } });
  };
  const float32Bytes = update(0).byteLength;
  const int8Bytes = update(0, 'int8').byteLength;

  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./aggregation-server.ts', import.meta.url))], {
    env: { ...process.env, PARAMS: String(PARAMS), CLIENTS: String(CLIENTS), NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)));
      createInterface({ input: child.stdout }).once('line', resolve);
    });
    const { url } = JSON.parse(line) as { url: string };
    const pid = child.pid!;
    const api = createFederationApi(url, { WebSocket });
    const joined: JoinResult[] = [];
    for (let i = 0; i < CLIENTS; i++) joined.push(await api.join('bench'));
    const idle = rssBytes(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);

    // Encoded before the clock starts (8 distinct ones, reused): the figure is the server's work, not the clients'.
    const encoded = Array.from({ length: 8 }, (_, i) => update(i));
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CLIENTS) {
          const i = next++;
          await api.submitUpdate(joined[i].token, 1, encoded[i % encoded.length]);
        }
      }),
    );
    let state = await api.heartbeat(joined[0].token);
    while (state.modelVersion < 1) {
      await new Promise((r) => setTimeout(r, 5));
      state = await api.heartbeat(joined[0].token);
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(pid));
    const v1 = decodeWeights(await api.downloadWeights('bench', 1));
    if (v1.weights.values.length !== PARAMS) throw new Error('version 1 has the wrong size');
    api.close();

    const modelMB = (PARAMS * 4) / MB;
    return [
      { name: 'update bytes per parameter (float32, framing included)', value: float32Bytes / PARAMS, unit: 'B/param', target: '≤ 4.05' },
      { name: 'update bytes per parameter (int8, framing included)', value: int8Bytes / PARAMS, unit: 'B/param', target: '≤ 1.1' },
      {
        name: `updates aggregated per second (${CLIENTS} clients × ${PARAMS / 1e6}M parameters, FedAvg)`,
        value: CLIENTS / seconds,
        unit: 'updates/s',
        details: { seconds, concurrency: CONCURRENCY, transport: 'HTTP PUT on loopback, checks + decode + streaming sum' },
      },
      {
        name: 'server memory growth during the round (peak RSS − idle RSS)',
        value: (peak - idle) / MB,
        unit: 'MB',
        target: `< ${(2 * modelMB + 100).toFixed(0)} (2 × model + 100 MB)`,
        details: { modelMB, idleRssMB: idle / MB, peakRssMB: peak / MB },
      },
    ];
  } finally {
    child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
