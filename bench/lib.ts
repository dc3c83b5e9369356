// Helpers shared by the benches: the result type that bench/run.ts collects, timing (wall clock and this
// process's CPU time), the median, and a throw-away in-process server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Task } from '@disco/core';
import { startServer } from '@disco/api';

/** One measure of a bench, as bench/run.ts prints it and writes it to docs/BENCHMARKS.md. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The target the issue sets, e.g. `≤ 1.05`. */
  target?: string;
  details?: Record<string, unknown>;
}

/** Wall-clock and CPU time of one timed run, in milliseconds. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Times `work`: wall clock and this process's CPU time (user + system). */
export async function timed(work: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (user + system) / 1000 };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A server in this process on a free port with a throw-away SQLite file (start and stop it outside the timings). */
export async function withServer<T>(tasks: Task[], body: (url: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-bench-'));
  const server = await startServer({ port: 0, dbPath: path.join(dir, 'bench.sqlite'), builtinTasks: tasks, adminToken: 'bench' });
  try {
    return await body(server.url);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
