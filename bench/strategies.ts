// Robust aggregation strategies side by side with FedAvg: CLIENTS updates of PARAMS float32 values go
// through each strategy's aggregator (add × CLIENTS, then result), in memory, without the HTTP route (the
// `aggregation` bench measures that route with FedAvg). Each strategy runs in its own child process so that
// its peak memory is its own: the growth of the resident set (VmHWM after the round − VmRSS before it,
// with the high-water mark reset by /proc/self/clear_refs). Generating an update is not timed. 50 clients by
// default so that `npm run bench` stays near a minute on 2 cores (Krum's cost grows as clients²);
//   CLIENTS=100 npx tsx --conditions=source bench/strategies.ts     for the 100 clients.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createStrategy, type AggregationStrategyName } from '@disco/core';
import type { BenchResult } from './lib.js';

const PARAMS = Number(process.env.PARAMS ?? 1_000_000);
const CLIENTS = Number(process.env.CLIENTS ?? 50);
const MB = 1024 * 1024;

interface Case {
  label: string;
  settings: { strategy: AggregationStrategyName; parameter?: number; bucketing?: { size: number } };
}

/** f = 10 % of the clients for the rules that take a number of Byzantine clients. */
const f = Math.floor(CLIENTS / 10);
const cases: Case[] = [
  { label: 'fedavg', settings: { strategy: 'fedavg' } },
  { label: 'median', settings: { strategy: 'median' } },
  { label: 'trimmed-mean (0.1)', settings: { strategy: 'trimmed-mean', parameter: 0.1 } },
  { label: `krum (f = ${f})`, settings: { strategy: 'krum', parameter: f } },
  { label: `multi-krum (f = ${f})`, settings: { strategy: 'multi-krum', parameter: f } },
  { label: 'centered-clipping (τ = median distance, L = 3)', settings: { strategy: 'centered-clipping' } },
  { label: 'median + bucketing (s = 2)', settings: { strategy: 'median', bucketing: { size: 2 } } },
];

interface Measure {
  seconds: number;
  cpuSeconds: number;
  addSeconds: number;
  resultSeconds: number;
  peakGrowthMB: number;
}

function status(key: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
}

/** One strategy, in this process: the child's work. */
function measure(settings: Case['settings']): Measure {
  const update = new Float32Array(PARAMS);
  const fill = (client: number) => {
    // A cheap per-client generator (an LCG): distinct updates, values in [−0.5, 0.5).
    let state = (client + 1) * 2654435761;
    for (let j = 0; j < PARAMS; j++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      update[j] = state / 4294967296 - 0.5;
    }
  };
  fill(0);
  const aggregator = createStrategy(settings).createAggregator(PARAMS);
  const before = status('VmRSS');
  writeFileSync('/proc/self/clear_refs', '5'); // reset the high-water mark to the current resident set
  let addMs = 0;
  let cpuMicros = 0;
  const cpuSince = (start: NodeJS.CpuUsage) => {
    const { user, system } = process.cpuUsage(start);
    return user + system;
  };
  for (let client = 0; client < CLIENTS; client++) {
    fill(client);
    const cpu = process.cpuUsage();
    const started = performance.now();
    aggregator.add(update, 10 + (client % 5));
    addMs += performance.now() - started;
    cpuMicros += cpuSince(cpu);
  }
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = aggregator.result();
  const resultMs = performance.now() - started;
  cpuMicros += cpuSince(cpu);
  if (result.length !== PARAMS || !result.every(Number.isFinite)) throw new Error('the aggregate is wrong');
  return { seconds: (addMs + resultMs) / 1000, cpuSeconds: cpuMicros / 1e6, addSeconds: addMs / 1000, resultSeconds: resultMs / 1000, peakGrowthMB: (status('VmHWM') - before) / MB };
}

export async function run(): Promise<BenchResult[]> {
  const measured: { label: string; m: Measure }[] = [];
  for (const { label, settings } of cases) {
    const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, STRATEGY_BENCH_CASE: JSON.stringify(settings), NODE_NO_WARNINGS: '1' },
      encoding: 'utf8',
      maxBuffer: 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(`${label} failed: ${child.stderr}`);
    const m = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measure;
    console.log(`  (${label}: ${m.cpuSeconds.toFixed(2)} s CPU, ${m.seconds.toFixed(2)} s wall, +${m.peakGrowthMB.toFixed(0)} MB)`);
    measured.push({ label, m });
  }
  const base = measured[0].m;
  const modelMB = (PARAMS * 4) / MB;
  // CPU time of the aggregating thread: on a shared 2-core machine wall time mostly measures the neighbours.
  return measured.map(({ label, m }) => ({
    name: `${label}: updates aggregated per CPU second (${CLIENTS} clients × ${PARAMS / 1e6}M parameters, in memory)`,
    value: CLIENTS / m.cpuSeconds,
    unit: 'updates/s',
    details: {
      fedavgCostRatio: m.cpuSeconds / base.cpuSeconds,
      cpuSeconds: m.cpuSeconds,
      wallSeconds: m.seconds,
      addWallSeconds: m.addSeconds,
      resultWallSeconds: m.resultSeconds,
      peakMemoryGrowthMB: m.peakGrowthMB,
      updatesHeldMB: label === 'fedavg' ? 0 : CLIENTS * modelMB,
    },
  }));
}

if (process.env.STRATEGY_BENCH_CASE) console.log(JSON.stringify(measure(JSON.parse(process.env.STRATEGY_BENCH_CASE) as Case['settings'])));
else if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
