import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getBuiltinTask, type Task } from '@disco/core';
import { disco, type RunResult } from './cli-helpers.js';

/** What the attack tests read from `disco simulate`'s done line, and their MNIST simulation. */

export interface Done {
  type: 'done';
  testAccuracy: number;
  rounds: number;
  aggregator: string;
  byzantine: number;
  attack?: string;
  maxWeightDifference?: number;
}

export function done(run: RunResult): Done {
  assert.equal(run.code, 0, run.stderr);
  const last = run.events.at(-1) as unknown as Done;
  assert.equal(last.type, 'done');
  return last;
}

// MNIST, 8 clients of which the last 2 send −10 × their update. 4,000 training digits (500 a client) and 3 rounds of
// one epoch in batches of 16 at Adam's lr 0.005, plain FedAvg steps on the server (the built-in task's server
// momentum is left out: these tests measure the aggregation rules alone); scored on the first 1,000 test digits.
// Without attackers these settings reach 0.93; see docs/BENCHMARKS.md ("Robustness: strategy × attack").
const mnistTask = ((): string => {
  const builtin = getBuiltinTask('mnist') as Task;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'disco-attacks-')), 'mnist.json');
  const { serverOptimizer: _momentum, ...aggregation } = builtin.aggregation;
  writeFileSync(file, JSON.stringify({ ...builtin, aggregation, training: { ...builtin.training, epochsPerRound: 1 } }));
  return file;
})();
export const MNIST = ['simulate', '--task', mnistTask, '--clients', '8', '--rounds', '3', '--train-limit', '4000', '--test-limit', '1000', '--batch-size', '16', '--learning-rate', '0.005', '--byzantine', '2', '--attack', 'sign-flip', '--json'];
export const mnist = (...aggregator: string[]) => disco([...MNIST, '--aggregator', ...aggregator], { timeoutMs: 300_000 });
