// Federated overhead: 4 FederatedClients against an in-process server vs the same clients' local training
// alone (same shards, models, validation, rounds × epochs, interleaved in this process), side by side in
// alternating runs, as the ratio of median CPU times (this process's: the in-process server's work counts; on a
// shared machine wall time mostly measures the neighbours, it is in the details); and the bytes on the wire
// per parameter of one update (HTTP request line, headers and body, as counted on the socket).
//   npx tsx --conditions=source bench/federated-overhead.ts
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import WebSocket from 'ws';
import {
  buildModel,
  encodeWeights,
  FederatedClient,
  getBuiltinTask,
  getFlatWeights,
  holdOut,
  initBackend,
  shardDataset,
  totalSize,
  Trainer,
  type Dataset,
  type Quantization,
  type Task,
} from '@disco/core';
import { InMemoryFederation } from '@disco/core/testing';
import { loadBuiltinDataset } from '@disco/core/node';
import { createFederationApi } from '@disco/client';
import { simulationTask } from '../packages/api/src/cli/simulation.js';
import { median, timed, withServer, type BenchResult, type Timing } from './lib.js';

const CLIENTS = 4;
/** Timed runs of each contender, after one untimed warm-up each. */
const RUNS = 5;

interface Case {
  name: string;
  task: Task;
  shards: Dataset[];
}

/** The federated run: every client joins, trains each round, sends its update, downloads each new model. */
async function federated(c: Case): Promise<Timing & { bytesSent: number; bytesReceived: number }> {
  return withServer([c.task], async (url) => {
    const apis = c.shards.map(() => createFederationApi(url, { WebSocket }));
    const clients = c.shards.map((dataset, i) => new FederatedClient({ api: apis[i], taskId: c.task.id, dataset }));
    const timing = await timed(async () => {
      await Promise.all(clients.map(async (client) => {
        for await (const _ of client.run());
      }));
    });
    const bytesSent = apis.reduce((n, api) => n + api.stats.bytesSent, 0);
    const bytesReceived = apis.reduce((n, api) => n + api.stats.bytesReceived, 0);
    clients.forEach((client) => client.model?.dispose());
    apis.forEach((api) => api.close());
    return { ...timing, bytesSent, bytesReceived };
  });
}

/** The same federated clients against an {@link InMemoryFederation}: the clients' own overhead, without HTTP or the server's bookkeeping. */
async function inMemory(c: Case): Promise<Timing> {
  const federation = new InMemoryFederation({ tasks: [{ ...c.task, minParticipants: CLIENTS }] });
  const clients = c.shards.map((dataset) => new FederatedClient({ api: federation, taskId: c.task.id, dataset }));
  const timing = await timed(async () => {
    await Promise.all(clients.map(async (client) => {
      for await (const _ of client.run());
    }));
  });
  clients.forEach((client) => client.model?.dispose());
  return timing;
}

/**
 * The same clients alone: the same models, validation hold-out and rounds × local epochs, without a server,
 * the four training at once in this process, interleaved as the federated clients are.
 */
async function local(c: Case): Promise<Timing> {
  const { training } = c.task;
  const models: tf.LayersModel[] = [];
  const client = async (shard: Dataset) => {
    // Built inside the timing, as each FederatedClient builds its own.
    const model = buildModel(c.task);
    models.push(model);
    const { train, validation } = holdOut(shard, training.validationSplit, training.seed);
    const trainer = new Trainer(model, training);
    for (let round = 1; round <= training.rounds; round++)
      for await (const _ of trainer.train(train, { epochs: training.epochsPerRound, validation, round }));
  };
  const timing = await timed(async () => {
    await Promise.all(c.shards.map(client));
  });
  models.forEach((m) => m.dispose());
  return timing;
}

async function overhead(c: Case): Promise<BenchResult> {
  await local(c);
  await federated(c);
  const fed: (Timing & { bytesSent: number; bytesReceived: number })[] = [];
  const alone: Timing[] = [];
  const memory: Timing[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order, so that a slow spell of the shared machine hits all alike.
    if (i % 2 === 0) {
      fed.push(await federated(c));
      alone.push(await local(c));
      memory.push(await inMemory(c));
    } else {
      memory.push(await inMemory(c));
      alone.push(await local(c));
      fed.push(await federated(c));
    }
  }
  const wall = (t: Timing[]) => median(t.map((x) => x.wallMs));
  const cpu = (t: Timing[]) => median(t.map((x) => x.cpuMs));
  return {
    name: `${c.name}: ${CLIENTS} federated clients / the same clients training alone (median CPU time)`,
    value: Number((cpu(fed) / cpu(alone)).toFixed(3)),
    unit: '×',
    target: '≤ 1.10',
    details: {
      federatedCpuMs: Math.round(cpu(fed)),
      localCpuMs: Math.round(cpu(alone)),
      wallRatio: Number((wall(fed) / wall(alone)).toFixed(3)),
      federatedWallMs: Math.round(wall(fed)),
      localWallMs: Math.round(wall(alone)),
      // The same clients against an in-memory federation (no HTTP, no server): their own share.
      inMemoryCpuRatio: Number((cpu(memory) / cpu(alone)).toFixed(3)),
      rounds: c.task.training.rounds,
      epochsPerRound: c.task.training.epochsPerRound,
      examplesPerClient: Math.round(c.shards.reduce((n, s) => n + s.count, 0) / CLIENTS),
      bytesPerRun: median(fed.map((f) => f.bytesSent + f.bytesReceived)),
      runs: RUNS,
      backend: tf.getBackend(),
    },
  };
}

/** Request bytes (request line, headers, body) of one update `PUT`, counted on the socket. */
async function updateBytes(url: string, taskId: string, dtype: Quantization, parameterCount: number): Promise<{ requestBytes: number; bodyBytes: number }> {
  const api = createFederationApi(url, { WebSocket });
  try {
    const { token, task } = await api.join(taskId);
    const model = buildModel(task);
    const weights = getFlatWeights(model);
    model.dispose();
    if (weights.values.length !== parameterCount) throw new Error('unexpected parameter count');
    // A realistic update: small differences, not the weights themselves.
    const delta = weights.values.map((v) => v * 0.01);
    const body = encodeWeights({ values: delta, shapes: weights.shapes }, { taskId, modelVersion: 0, dtype, meta: { samples: 1500, loss: 0.3, accuracy: 0.9, valLoss: 0.35, valAccuracy: 0.88 } });
    // The same request as the client's (`createFederationApi`), on a fresh socket whose bytesWritten counts it all.
    let written = 0;
    const { hostname, port } = new URL(url);
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          host: hostname,
          port,
          method: 'PUT',
          path: `/v1/tasks/${encodeURIComponent(taskId)}/rounds/1/update`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': body.length },
          agent: false,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            written = response.socket.bytesWritten;
            resolve(response.statusCode ?? 0);
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    if (status !== 200) throw new Error(`the update was refused (HTTP ${status})`);
    await api.leave(token);
    return { requestBytes: written, bodyBytes: body.length };
  } finally {
    api.close();
  }
}

/** Bytes on the wire of one MNIST update, float32 and int8. */
export async function wireBytes(): Promise<BenchResult[]> {
  const mnist = getBuiltinTask('mnist') as Task;
  const tasks: Task[] = (['float32', 'int8'] as const).map((q) => ({ ...mnist, id: `mnist-${q}`, quantization: q, minParticipants: 2 }));
  const model = buildModel(mnist);
  const parameters = totalSize(getFlatWeights(model).shapes);
  model.dispose();
  return withServer(tasks, async (url) => {
    const results: BenchResult[] = [];
    for (const [dtype, target] of [
      ['float32', '≤ 4.05'],
      ['int8', '≤ 1.1'],
    ] as const) {
      const { requestBytes, bodyBytes } = await updateBytes(url, `mnist-${dtype}`, dtype, parameters);
      results.push({
        name: `bytes on the wire per parameter, one ${dtype} update (mnist-cnn)`,
        value: Number((requestBytes / parameters).toFixed(4)),
        unit: 'B/param',
        target,
        details: { parameters, requestBytes, bodyBytes, framingBytes: requestBytes - parameters * (dtype === 'int8' ? 1 : 4) },
      });
    }
    return results;
  });
}

/** Titanic (MLP, the 1,047 training rows, 5 rounds) and MNIST (CNN, 1,600 digits, 3 rounds), 4 IID clients each. */
export async function run(): Promise<BenchResult[]> {
  await initBackend();
  const titanic = getBuiltinTask('titanic') as Task;
  const mnist = getBuiltinTask('mnist') as Task;
  const cases: Case[] = [
    {
      name: 'titanic',
      task: simulationTask(titanic, { clients: CLIENTS, rounds: 5 }),
      shards: shardDataset(await loadBuiltinDataset('titanic', { split: 'train' }), CLIENTS, { seed: 1 }),
    },
    {
      name: 'mnist-cnn',
      task: simulationTask(mnist, { clients: CLIENTS, rounds: 3 }),
      shards: shardDataset(await loadBuiltinDataset('mnist', { split: 'train', limit: 1600 }), CLIENTS, { seed: 1 }),
    },
  ];
  const results: BenchResult[] = [];
  for (const c of cases) results.push(await overhead(c));
  results.push(...(await wireBytes()));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.name}: ${r.value} ${r.unit} (target ${r.target})`, r.details);
  process.exit(0);
}
