// The longest event-loop stall while a robust rule aggregates a round, on the event loop (what the server did
// before issue 10) and in a worker thread (what it does now, `aggregateInWorker`), side by side: CLIENTS updates
// of PARAMS random values, Krum with f = CLIENTS / 10. A 10 ms timer records the longest gap between its ticks,
// which is how long a heartbeat or a health check arriving then would wait. Standalone (not in `npm run bench`):
//   npx tsx --conditions=source bench/aggregation-stall.ts
import { krum } from '@disco/core';
import { aggregateInWorker } from '../packages/api/src/services/rounds/aggregation-thread.js';

const PARAMS = Number(process.env.PARAMS ?? 1_000_000);
const CLIENTS = Number(process.env.CLIENTS ?? 50);
const f = Math.floor(CLIENTS / 10);

/** Generated before each measure (not timed). */
function updates(): Float32Array[] {
  return Array.from({ length: CLIENTS }, () => {
    const u = new Float32Array(PARAMS);
    for (let i = 0; i < PARAMS; i++) u[i] = Math.random() - 0.5;
    return u;
  });
}

/** Runs `work`, ticking every 10 ms meanwhile; the wall time and the longest gap between ticks (ms). */
async function measure(work: () => Promise<unknown>): Promise<{ wallMs: number; stallMs: number }> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  // Let the timer tick once before the work starts.
  await new Promise((resolve) => setTimeout(resolve, 30));
  await work();
  const wallMs = performance.now() - started - 30;
  await new Promise((resolve) => setTimeout(resolve, 30));
  clearInterval(timer);
  return { wallMs, stallMs: stall };
}

let list = updates();
const inThread = await measure(async () => krum(list, f));
list = updates();
const offThread = await measure(() => aggregateInWorker({ settings: { strategy: 'krum', parameter: f }, updates: list, weights: list.map(() => 1) }));
console.log(JSON.stringify({ clients: CLIENTS, params: PARAMS, f, inThread, offThread }));
