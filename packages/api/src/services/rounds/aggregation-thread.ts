import { Worker } from 'node:worker_threads';
import type { AggregationStrategyName } from '@disco/core';

/** What the aggregation worker receives: the strategy settings and the round's updates (transferred, not copied). */
export interface AggregationJob {
  settings: { strategy: AggregationStrategyName; parameter?: number; bucketing?: { size: number } };
  updates: Float32Array[];
  weights: number[];
}

/** True when this module runs from its TypeScript source (tests, the `disco` command): the worker must load TS too. */
const fromSource = import.meta.url.endsWith('.ts');

/**
 * In a worker started from source, what the main thread's loader does (`bin/disco.js`, `node --import tsx
 * --conditions=source`): module hooks registered in a thread do not reach the workers it starts.
 */
const sourceBootstrap = `
const { workerData } = require('node:worker_threads');
const { register } = require('node:module');
const condition = 'export async function resolve(specifier, context, next) {' +
  " return next(specifier, { ...context, conditions: [...new Set([...context.conditions, 'source'])] }); }";
register('data:text/javascript,' + encodeURIComponent(condition));
import(workerData.tsx).then((tsx) => tsx.register()).then(() => import(workerData.entry)).catch((error) => {
  setImmediate(() => { throw error; });
});
`;

/**
 * Runs a non-streaming strategy's `result()` in a worker thread, so that the event loop keeps serving
 * requests (heartbeats, health checks, downloads) while it computes (Krum over 50 updates of 1M parameters
 * takes seconds of CPU). The updates' buffers are transferred: this thread no longer holds them, so the
 * memory in use stays what the round buffered. Resolves with the aggregate; rejects with the reason when the
 * strategy throws or the worker dies (out of memory, terminated).
 */
export function aggregateInWorker(job: AggregationJob, track?: (worker: Worker) => void): Promise<Float32Array> {
  const transferList = job.updates.map((u) => u.buffer as ArrayBuffer);
  const entry = new URL(`./aggregation-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  const worker = fromSource
    ? new Worker(sourceBootstrap, { eval: true, execArgv: [], workerData: { ...job, entry: entry.href, tsx: import.meta.resolve('tsx/esm/api') }, transferList })
    : new Worker(entry, { workerData: job, transferList });
  track?.(worker);
  return new Promise<Float32Array>((resolve, reject) => {
    let settled = false;
    worker.once('message', (message: { delta: Float32Array }) => {
      settled = true;
      resolve(message.delta);
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the aggregation worker stopped (exit code ${code}) before returning the aggregate`));
    });
  });
}
