// Trainer vs plain model.fit: the same model (same seed), data, backend and batch size, timed side by side
// in alternating runs, reported as the ratio of the median times (target ≤ 1.05). The ratio is of CPU
// time (this process's user + system): on a shared machine wall time mostly measures the neighbours
// (±30 %); TF.js on wasm is single-threaded, so CPU time is the work done. Wall times are in the details.
//   npx tsx --conditions=source bench/trainer-vs-fit.ts
import * as tf from '@tensorflow/tfjs';
import { buildModel, getBuiltinTask, initBackend, Trainer, type Dataset, type Task } from '@disco/core';
import { loadBuiltinDataset } from '@disco/core/node';
import { pathToFileURL } from 'node:url';
import { median, timed, type BenchResult, type Timing } from './lib.js';

interface Case {
  name: string;
  task: Task;
  train: Dataset;
  validation: Dataset;
  epochs: number;
  /** Timed runs of each contender (after one untimed warm-up each): more for the short case, whose times vary more. */
  runs: number;
}

/** Our Trainer, validation included, as a session would run it (no batch events: the default). */
async function withTrainer(c: Case): Promise<Timing> {
  const model = buildModel(c.task);
  const timing = await timed(async () => {
    for await (const _ of new Trainer(model, c.task.training).train(c.train, { epochs: c.epochs, validation: c.validation }));
  });
  model.dispose();
  return timing;
}

/** Plain model.fit on the same typed arrays: tensors made and disposed inside the timing, like the Trainer's. */
async function withFit(c: Case): Promise<Timing> {
  const model = buildModel(c.task);
  const timing = await timed(async () => {
    const [x, y, vx, vy] = [c.train, c.validation].flatMap((d) => [
      tf.tensor(d.features, [d.count, ...d.featureShape]),
      tf.tensor2d(Float32Array.from(d.labels as Int32Array), [d.count, 1]),
    ]);
    await model.fit(x, y, { epochs: c.epochs, batchSize: c.task.training.batchSize, shuffle: true, validationData: [vx, vy], verbose: 0 });
    tf.dispose([x, y, vx, vy]);
  });
  model.dispose();
  return timing;
}

async function compare(c: Case): Promise<BenchResult> {
  await withTrainer(c);
  await withFit(c);
  const trainer: Timing[] = [];
  const fit: Timing[] = [];
  for (let i = 0; i < c.runs; i++) {
    // Alternate which goes first, so that a slow spell of the shared machine hits both alike.
    if (i % 2 === 0) {
      trainer.push(await withTrainer(c));
      fit.push(await withFit(c));
    } else {
      fit.push(await withFit(c));
      trainer.push(await withTrainer(c));
    }
  }
  const cpu = (t: Timing[]) => median(t.map((x) => x.cpuMs));
  const wall = (t: Timing[]) => median(t.map((x) => x.wallMs));
  return {
    name: `${c.name}: Trainer / model.fit (median CPU time)`,
    value: Number((cpu(trainer) / cpu(fit)).toFixed(3)),
    unit: '×',
    target: '≤ 1.05',
    details: {
      trainerCpuMs: Math.round(cpu(trainer)),
      fitCpuMs: Math.round(cpu(fit)),
      // Second opinions on a busy machine: the runs side by side, and the least disturbed runs.
      pairedCpuRatio: Number(median(trainer.map((t, i) => t.cpuMs / fit[i].cpuMs)).toFixed(3)),
      minCpuRatio: Number((Math.min(...trainer.map((t) => t.cpuMs)) / Math.min(...fit.map((t) => t.cpuMs))).toFixed(3)),
      wallRatio: Number((wall(trainer) / wall(fit)).toFixed(3)),
      trainerWallMs: Math.round(wall(trainer)),
      fitWallMs: Math.round(wall(fit)),
      runs: c.runs,
      epochs: c.epochs,
      examples: c.train.count,
      batchSize: c.task.training.batchSize,
      backend: tf.getBackend(),
    },
  };
}

/** Titanic (MLP, 1,047 rows, 5 epochs) and MNIST (CNN, 1,500 digits, 1 epoch), each with validation. */
export async function run(): Promise<BenchResult[]> {
  await initBackend();
  const titanic = getBuiltinTask('titanic');
  const mnist = getBuiltinTask('mnist');
  if (!titanic || !mnist) throw new Error('the built-in titanic and mnist tasks are missing');
  const cases: Case[] = [
    {
      name: 'titanic',
      task: titanic,
      train: await loadBuiltinDataset('titanic', { split: 'train' }),
      validation: await loadBuiltinDataset('titanic', { split: 'test' }),
      epochs: 5,
      runs: 15,
    },
    {
      name: 'mnist-cnn',
      task: mnist,
      train: await loadBuiltinDataset('mnist', { split: 'train', limit: 1500 }),
      validation: await loadBuiltinDataset('mnist', { split: 'test', limit: 300 }),
      epochs: 1,
      runs: 11,
    },
  ];
  const results: BenchResult[] = [];
  for (const c of cases) results.push(await compare(c));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.name}: ${r.value} ${r.unit} (target ${r.target})`, r.details);
}
