import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTask, titanic } from '@disco/core';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Titanic as a decentralized task that waits for `peers` peers before its first round. */
function titanicP2p(peers: number, rounds: number) {
  return parseTask({ ...titanic, id: 'titanic-p2p', scheme: 'decentralized', minParticipants: peers, training: { ...titanic.training, rounds } });
}

async function server(t: { after(fn: () => Promise<void> | void): void }, peers: number, rounds: number, timings = {}): Promise<RunningServer> {
  const tmp = tempDir();
  const running = await startServer({ port: 0, dbPath: path.join(tmp.dir, 'disco.sqlite'), builtinTasks: [titanicP2p(peers, rounds)], timings });
  t.after(async () => {
    await running.close();
    tmp.remove();
  });
  return running;
}

interface PeerRun {
  events: Record<string, unknown>[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs `fixtures/peer-process.ts` as a separate process; resolves when it exits. */
function peerProcess(url: string, index: number, count: number, extra: string[] = []): Promise<PeerRun> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(here, 'fixtures/peer-process.ts'), url, 'titanic-p2p', String(index), String(count), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line));
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ events, code, signal })));
}

test('4 Node peers in separate processes train Titanic over WebRTC and agree on the final model', { timeout: 120_000 }, async (t) => {
  const running = await server(t, 4, 5);

  const runs = await Promise.all([0, 1, 2, 3].map((i) => peerProcess(running.url, i, 4)));

  const results = runs.map((run, i) => {
    assert.equal(run.code, 0, `peer ${i} exited with ${run.code ?? run.signal}`);
    return run.events.find((e) => e.type === 'result') as { accuracy: number; weights: number[] };
  });
  for (const [i, r] of results.entries()) assert.ok(r.accuracy >= 0.76, `peer ${i}: test accuracy ${r.accuracy}`);
  let maxDiff = 0;
  for (const r of results.slice(1)) r.weights.forEach((w, j) => (maxDiff = Math.max(maxDiff, Math.abs(w - results[0].weights[j]))));
  assert.ok(maxDiff <= 1e-4, `the peers' final models differ by up to ${maxDiff}`);
  // Every round had all 4 peers, each connected to the 3 others; models went peer to peer only.
  const rounds = runs[0].events.filter((e) => e.type === 'round');
  assert.deepEqual(rounds.map((e) => [e.round, e.participants]), [1, 2, 3, 4, 5].map((r) => [r, 4]));
  const done = runs[0].events.find((e) => e.type === 'done') as { bytesSent: number; bytesReceived: number };
  assert.ok(done.bytesSent > 5 * 3 * 4 * 1000, `bytes sent to peers: ${done.bytesSent}`);
});
