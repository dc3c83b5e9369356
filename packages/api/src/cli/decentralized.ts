import { DecentralizedClient, getFlatWeights, validateTask, type Dataset, type SignallingApi, type Task } from '@disco/core';
import { nodeWrtc } from '@disco/core/node';
import WebSocket from 'ws';
import { createSignallingApi } from '@disco/client';
import { CliError } from './args.js';
import { withStopSignals } from './common.js';
import { saveModelWithTask } from './model-dir.js';
import { testScores } from './scores.js';
import type { Reporter } from './output.js';
import { drain, simulationTask, startOwnServer, type OwnServer, type SimulationSettings } from './simulation.js';
import { attackers, peerAttack, robustnessFields, type ByzantineSettings } from './byzantine.js';

/**
 * The decentralized side of `disco train` and `disco simulate` (`--scheme decentralized`), kept here so
 * that those commands only branch to it. Peers are Node WebRTC endpoints (node-datachannel); the server
 * only introduces them. Loaded only when a command takes that branch.
 */

/** `disco train --scheme decentralized`: this machine as one peer of a decentralized task on `server`. */
export function decentralizedPeer(options: { server: string; taskId: string; dataset: (task: Task) => Promise<Dataset>; token?: string; rounds?: number; connectTimeoutMs?: number }): {
  client: DecentralizedClient;
  close(): void;
} {
  const api = createApi(options.server);
  const client = new DecentralizedClient({
    api,
    taskId: options.taskId,
    token: options.token,
    rounds: options.rounds,
    wrtc: nodeWrtc(),
    dataset: options.dataset,
    ...(options.connectTimeoutMs !== undefined && { connectTimeoutMs: options.connectTimeoutMs }),
  });
  return { client, close: () => api.close() };
}

function createApi(url: string): SignallingApi {
  return createSignallingApi(url, { WebSocket });
}

export interface SimulateDecentralizedOptions {
  /** The built-in task simulated, as the simulation's own server runs it (or the id on `serverUrl`). */
  task: Task;
  settings: SimulationSettings;
  /** A server to use instead of one in this process (the task must exist there, decentralized). */
  serverUrl?: string;
  shards: Dataset[];
  test: Dataset;
  reporter: Reporter;
  verbose: boolean;
  out?: string;
  /** Fields copied into the closing `done` event (split, examples…). */
  extra: Record<string, unknown>;
  /** The last `count` peers attack (`--byzantine`): label-flip is already in their shards, other attacks in what they send. */
  byzantine?: ByzantineSettings;
}

/** The simulation's own decentralized task; the settings laid over the task (privacy flags) must make it valid. */
function decentralizedTask(task: Task, settings: SimulationSettings): Task {
  const checked = validateTask({ ...simulationTask(task, settings), scheme: 'decentralized', minParticipants: settings.clients });
  if (!checked.ok) throw new CliError('invalid-task', `the simulated decentralized task is not valid:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}`);
  return checked.task;
}

/**
 * `disco simulate --scheme decentralized`: one peer per shard in this process, each its own WebRTC endpoint
 * and participant. Reports peer 0's rounds with the test accuracy of its model, and ends with the test
 * accuracy, the bytes the peers exchanged (with each other, not with the server) and how far apart the
 * peers' final models are. Returns the exit code.
 */
export async function simulateDecentralized(options: SimulateDecentralizedOptions): Promise<number> {
  const { task, settings, shards, test, reporter, verbose, out } = options;
  const started = Date.now();
  // The settings laid over the task (privacy flags) must make a valid decentralized task: say which do not.
  const simulated = options.serverUrl ? task : decentralizedTask(task, settings);
  const attacker = attackers(options.byzantine, simulated, shards.length);
  const own = options.serverUrl ? undefined : await startOwnServer(simulated);
  const url = options.serverUrl ?? (own as OwnServer).url;
  const apis = shards.map(() => createApi(url));
  try {
    const clients = shards.map(
      (dataset, i) =>
        new DecentralizedClient({
          api: apis[i],
          taskId: task.id,
          dataset,
          rounds: settings.rounds,
          // The model is judged on the test split: peers keep all their data for training.
          validation: 0,
          wrtc: nodeWrtc(),
          sentUpdate: peerAttack(attacker(i)),
          onEvent: (event) => {
            if (verbose) reporter.event({ ...event, client: i });
            else if (event.type === 'log' && event.level === 'warn') reporter.event({ ...event, client: i });
            if (i === 0 && event.type === 'round') reporter.event({ ...event, ...testScores(clients[0].model!, test, simulated) });
          },
        }),
    );
    const runs = await withStopSignals(
      () => clients.forEach((c) => c.stop()),
      () => Promise.all(clients.map((client) => drain(client.run()))),
    );
    const stopped = runs.some((done) => done?.stopped);
    // Secure tasks: every peer masked every round; under DP each peer accounts ε itself (the same rounds: peer 0's).
    const privacy = { secureAggregation: runs[0]?.secureAggregation, epsilon: runs[0]?.epsilon, delta: runs[0]?.delta, budgetExhausted: runs[0]?.budgetExhausted };
    const first = clients[0];
    const scores = testScores(first.model!, test, simulated);
    if (out && !stopped) await saveModelWithTask(first.model!, out, first.task ?? simulated);
    const reference = getFlatWeights(first.model!).values;
    let disagreement = 0;
    for (const client of clients.slice(1)) {
      const values = getFlatWeights(client.model!).values;
      for (let j = 0; j < values.length; j++) disagreement = Math.max(disagreement, Math.abs(values[j] - reference[j]));
    }
    reporter.event({
      type: 'done',
      scheme: 'decentralized',
      ...scores,
      accuracy: scores.testAccuracy,
      loss: scores.testLoss,
      ...(scores.testPerplexity !== undefined && { perplexity: scores.testPerplexity }),
      rounds: first.completedRound,
      clients: shards.length,
      ...options.extra,
      bytesSent: clients.reduce((sum, c) => sum + c.stats.bytesSent, 0),
      bytesReceived: clients.reduce((sum, c) => sum + c.stats.bytesReceived, 0),
      signallingBytes: clients.reduce((sum, c) => sum + (c.stats.signalling?.bytesSent ?? 0) + (c.stats.signalling?.bytesReceived ?? 0), 0),
      maxWeightDifference: disagreement,
      ...robustnessFields(first.task, options.byzantine),
      ...Object.fromEntries(Object.entries(privacy).filter(([, v]) => v !== undefined)),
      seconds: (Date.now() - started) / 1000,
      ...(stopped && { stopped }),
      ...(out && !stopped && { out }),
    });
    clients.forEach((c) => c.model?.dispose());
    return stopped ? 130 : 0;
  } finally {
    apis.forEach((api) => api.close());
    await own?.close();
  }
}
