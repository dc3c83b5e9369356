// A throw-away Disco server for the browser tests that need a real one (decentralized training: signalling
// over tRPC and WebSockets, the peers talking over WebRTC). Started on demand by the `disco-server` plugin of
// web-test-runner.config.mjs; prints one JSON line `{ "url": … }` once it listens, stops when its stdin closes.
//
//   node --conditions=source --import tsx scripts/test-server.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTask, titanic } from '@disco/core';
import { startServer } from '@disco/api';

/** Titanic as a decentralized task for two browsers: 2 rounds of 2 epochs, a round needs both. */
const titanicP2p = parseTask({
  ...titanic,
  id: 'titanic-p2p',
  title: 'Titanic, peer to peer',
  scheme: 'decentralized',
  minParticipants: 2,
  roundDeadlineSeconds: 60,
  training: { ...titanic.training, epochsPerRound: 2, rounds: 2 },
});

const dir = mkdtempSync(path.join(tmpdir(), 'disco-wtr-'));
const server = await startServer({ port: 0, dbPath: path.join(dir, 'disco.sqlite'), cors: ['*'], builtinTasks: [titanicP2p] });
console.log(JSON.stringify({ url: server.url }));

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
