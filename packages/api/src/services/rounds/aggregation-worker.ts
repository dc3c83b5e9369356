// The body of the aggregation worker thread (see aggregation-thread.ts): the strategy's result over the
// round's buffered updates, which the coordinator transferred here. Imports core's aggregation only (no TF.js).
import { parentPort, workerData } from 'node:worker_threads';
import { aggregateBuffered } from '@disco/core/aggregation';
import type { AggregationJob } from './aggregation-thread.js';

const job = workerData as AggregationJob;
const delta = aggregateBuffered(job.settings, job.updates, job.weights);
parentPort!.postMessage({ delta }, [delta.buffer as ArrayBuffer]);
