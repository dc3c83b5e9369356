// Robustness, strategy × attack (issue 10): `disco simulate` on MNIST, 8 clients of which the last 2 attack (real
// participants: they join, train and upload through the same API; core's attacks/), for each aggregation strategy
// and each attack; the figure is the final global model's accuracy on the test digits. Each cell is one `disco
// simulate` process (TF.js on wasm uses one core), CONCURRENCY (default 2) at a time. Defaults keep the table near
// 10 minutes on 2 idle cores (2,400 training digits, 3 rounds; a cell takes ~15 s of CPU):
//   npx tsx --conditions=source bench/attacks.ts          TRAIN=4000 for the settings of api/test/cli-attacks-mnist.test.ts
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mnist } from '@disco/core';
import type { BenchResult } from './lib.js';

const DISCO = fileURLToPath(new URL('../packages/api/bin/disco.js', import.meta.url));
const CLIENTS = 8;
const BYZANTINE = 2;
const TRAIN = Number(process.env.TRAIN ?? 2400);
const TEST = Number(process.env.TEST ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 2);
const SETTINGS = ['--batch-size', '16', '--learning-rate', '0.005'];

interface Strategy {
  label: string;
  /** `--aggregator …` flags, or a task file's aggregation (bucketing has no flag). */
  flags?: string[];
  aggregation?: Record<string, unknown>;
}

/**
 * The built-in MNIST task as the table measures it (and api/test/attacks-helpers.ts): one local epoch, plain FedAvg
 * steps on the server (no server momentum), so that the figures are the aggregation rules' alone.
 */
const { serverOptimizer: _momentum, ...plainAggregation } = mnist.aggregation;
const pinned = { ...mnist, aggregation: plainAggregation, training: { ...mnist.training, epochsPerRound: 1 } };

const strategies: Strategy[] = [
  { label: 'fedavg', flags: ['--aggregator', 'fedavg'] },
  { label: 'median', flags: ['--aggregator', 'median'] },
  { label: 'trimmed-mean (β = 0.25)', flags: ['--aggregator', 'trimmed-mean', '--aggregator-param', '0.25'] },
  { label: 'krum (f = 2)', flags: ['--aggregator', 'krum', '--aggregator-param', '2'] },
  { label: 'multi-krum (f = 2)', flags: ['--aggregator', 'multi-krum', '--aggregator-param', '2'] },
  { label: 'centered-clipping', flags: ['--aggregator', 'centered-clipping'] },
  { label: 'centered-clipping + bucketing (s = 2)', aggregation: { ...pinned.aggregation, strategy: 'centered-clipping', bucketing: { size: 2 } } },
];
const attacks = ['none', 'sign-flip', 'gaussian', 'label-flip', 'alie', 'ipm', 'inflate-samples'] as const;
/** The cells run: every strategy against every attack, except bucketing, against the attacks it is meant for. */
const bucketedAttacks = new Set(['none', 'sign-flip', 'alie', 'ipm']);

interface Cell {
  strategy: string;
  attack: string;
  accuracy: number;
  seconds: number;
}

function simulate(args: string[]): Promise<{ accuracy: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DISCO, 'simulate', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const done = stdout
        .split('\n')
        .filter((line) => line.startsWith('{"type":"done"'))
        .map((line) => JSON.parse(line) as { testAccuracy: number; seconds: number })[0];
      if (code !== 0 || !done) reject(new Error(`disco simulate ${args.join(' ')} exited with ${code}: ${stderr.split('\n')[0]}`));
      else resolve({ accuracy: done.testAccuracy, seconds: done.seconds });
    });
  });
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-bench-attacks-'));
  try {
    const jobs: (() => Promise<Cell>)[] = [];
    const base = path.join(dir, 'mnist.json');
    await writeFile(base, JSON.stringify(pinned));
    for (const strategy of strategies) {
      let flags = ['--task', base, ...(strategy.flags ?? [])];
      if (strategy.aggregation) {
        const file = path.join(dir, `mnist-${jobs.length}.json`);
        await writeFile(file, JSON.stringify({ ...pinned, aggregation: strategy.aggregation }));
        flags = ['--task', file];
      }
      for (const attack of attacks) {
        if (strategy.aggregation && !bucketedAttacks.has(attack)) continue;
        const args = [
          ...flags,
          ...['--clients', String(CLIENTS), '--rounds', String(ROUNDS), '--train-limit', String(TRAIN), '--test-limit', String(TEST), ...SETTINGS],
          ...(attack === 'none' ? [] : ['--byzantine', String(BYZANTINE), '--attack', attack]),
        ];
        jobs.push(async () => ({ strategy: strategy.label, attack, ...(await simulate(args)) }));
      }
    }
    const cells: Cell[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < jobs.length) {
          const cell = await jobs[next++]();
          console.log(`  ${cell.strategy} × ${cell.attack}: ${cell.accuracy.toFixed(3)} (${cell.seconds.toFixed(0)} s)`);
          cells.push(cell);
        }
      }),
    );
    console.log(`\n${table(cells)}`);
    const settings = `MNIST, ${CLIENTS} clients (the last ${BYZANTINE} attack), ${TRAIN} training digits, ${ROUNDS} rounds of 1 epoch, batch 16, Adam lr 0.005, ${TEST} test digits`;
    return strategies.map((strategy) => {
      const row = cells.filter((c) => c.strategy === strategy.label);
      const attacked = row.filter((c) => c.attack !== 'none');
      return {
        name: `${strategy.label}: lowest test accuracy under attack (${settings})`,
        value: Math.min(...attacked.map((c) => c.accuracy)),
        unit: 'accuracy',
        details: Object.fromEntries(attacks.flatMap((a) => row.filter((c) => c.attack === a).map((c) => [a, Number(c.accuracy.toFixed(3))]))),
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The markdown table of docs/BENCHMARKS.md, "Robustness: strategy × attack". */
function table(cells: Cell[]): string {
  const lines = [`| strategy | ${attacks.join(' | ')} |`, `| --- |${attacks.map(() => ' --- |').join('')}`];
  for (const strategy of strategies) {
    const row = attacks.map((a) => cells.find((c) => c.strategy === strategy.label && c.attack === a));
    lines.push(`| ${strategy.label} | ${row.map((c) => (c ? c.accuracy.toFixed(3) : '')).join(' | ')} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(`${r.name}: ${r.value} ${JSON.stringify(r.details)}`);
}
