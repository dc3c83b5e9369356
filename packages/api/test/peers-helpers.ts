import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTask, titanic } from '@disco/core';
import { startServer, type RunningServer } from '../src/server.js';
import type { RoundTimings } from '../src/services/rounds/coordinator.js';
import { freshDb, tempDir } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A server whose only task is Titanic as a decentralized task, `titanic-p2p`, waiting for `peers` peers; with
 * `secure`, secure aggregation with updates clipped to L2 norm 10 (above what a round of Titanic moves).
 */
export async function titanicServer(
  t: { after(fn: () => Promise<void> | void): void },
  { peers, rounds, timings = {}, secure = false }: { peers: number; rounds: number; timings?: Partial<RoundTimings>; secure?: boolean },
): Promise<RunningServer> {
  const tmp = tempDir();
  const privacy = secure ? { secureAggregation: true, clippingNorm: 10 } : {};
  const task = parseTask({ ...titanic, id: 'titanic-p2p', scheme: 'decentralized', minParticipants: peers, privacy, training: { ...titanic.training, rounds } });
  const running = await startServer({ port: 0, db: await freshDb(tmp.dir), builtinTasks: [task], timings });
  t.after(async () => {
    await running.close();
    tmp.remove();
  });
  return running;
}

export type PeerEvent = Record<string, unknown> & { type: string; t: number };

export interface PeerRun {
  events: PeerEvent[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs `fixtures/peer-process.ts` (peer `index` of `count`, on its Titanic shard) as a separate process;
 * resolves when it exits. `onEvent` sees its events as they come; `go()` releases a peer started with `--wait-for-go`.
 */
export function peerProcess(
  url: string,
  index: number,
  count: number,
  extra: string[] = [],
  onEvent?: (event: PeerEvent) => void,
): Promise<PeerRun> & { go(): void } {
  const script = path.join(here, 'fixtures/peer-process.ts');
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, url, 'titanic-p2p', String(index), String(count), ...extra], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const events: PeerEvent[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines)
      if (line.startsWith('{')) {
        const event = JSON.parse(line) as PeerEvent;
        events.push(event);
        onEvent?.(event);
      }
  });
  const exited = new Promise<PeerRun>((resolve) => child.on('exit', (code, signal) => resolve({ events, code, signal })));
  // With --wait-for-go, the peer joins when told.
  return Object.assign(exited, { go: () => void child.stdin.end('go\n') });
}

/** Largest absolute difference between two peers' weights. */
export function maxDifference(a: number[], b: number[]): number {
  let max = 0;
  a.forEach((w, j) => (max = Math.max(max, Math.abs(w - b[j]))));
  return max;
}
