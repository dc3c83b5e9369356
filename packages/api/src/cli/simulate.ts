import {
  evaluateModel,
  FederatedClient,
  getBuiltinTask,
  readWeightsHeader,
  shardDataset,
  type Dataset,
  type FederationApi,
  type TrainingEvent,
} from '@disco/core';
import { loadBuiltinDataset, saveModelToDir } from '@disco/core/node';
import WebSocket from 'ws';
import { choiceOption, CliError, integerOption, numberOption, optionalString, parseCommand, requireString, UsageError, type OptionSpec } from './args.js';
import { backends, startTf, withStopSignals } from './common.js';
import { Reporter, type CliIo } from './output.js';
import { drain, simulationTask, startOwnServer, type OwnServer } from './simulation.js';

/** `disco simulate --help`. */
export const simulateUsage = `Usage:
  disco simulate --task <id> --clients <n> --rounds <r> [--split iid|label-skew] [--seed s]
                 [--scheme federated|decentralized] [--server <url>] [--out <dir>] [--json]

Simulates a federated training on one machine: splits the task's built-in data among n clients, holds
out its test split, and runs the n clients at once against a server (its own, in this process, on a
free port with a temporary database, unless --server is given). Ends with the global model's accuracy
on the test split and the bytes exchanged.

Options:
  --task <id>          a built-in task with bundled data (titanic, mnist)
  --clients <n>        number of simulated participants
  --rounds <r>         federated rounds to run
  --split <kind>       iid (default: random, even shards) or label-skew (each client holds ~2 classes)
  --seed <s>           seed of the split (default 42)
  --scheme <s>         federated (default) or decentralized: the clients are WebRTC peers that
                       exchange models with each other, the server only introduces them
  --server <url>       use this Disco server (the task must exist there) instead of starting one
  --epochs <n>         local epochs per round (default: the task's epochsPerRound; own server only)
  --batch-size <n>     local batch size (default: the task's; own server only)
  --learning-rate <r>  local learning rate (default: the task's; own server only)
  --momentum <β>       momentum of the global model, applied by the clients (FedAvgM; default 0:
                       plain FedAvg); helps label-skewed splits, e.g. 0.9
  --train-limit <n>    use only the first n training examples (e.g. 6000 of MNIST's 60,000)
  --test-limit <n>     evaluate on only the first n test examples
  --out <dir>          save the final global model there (TF.js model.json + weights.bin)
  --backend <name>     TF.js backend: wasm (default) or cpu
  --json               print every event as one JSON line
  --verbose            also print every client's own events (epochs, logs), tagged with "client"
  -h, --help           show this help`;

const options: OptionSpec = {
  task: { type: 'string' },
  clients: { type: 'string' },
  rounds: { type: 'string' },
  split: { type: 'string' },
  seed: { type: 'string' },
  server: { type: 'string' },
  scheme: { type: 'string' },
  epochs: { type: 'string' },
  momentum: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
};

/** `disco simulate`: n federated clients on one machine, on a built-in data set. */
export async function simulateCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io });
  try {
    const { values, help } = parseCommand(argv, options, simulateUsage);
    if (help) {
      io.out(simulateUsage);
      return 0;
    }
    const taskId = requireString(values, 'task', simulateUsage);
    const clients = integerOption(values, 'clients', simulateUsage) ?? missing('clients');
    const rounds = integerOption(values, 'rounds', simulateUsage) ?? missing('rounds');
    const split = choiceOption(values, 'split', ['iid', 'label-skew'] as const, simulateUsage, 'iid');
    const seed = integerOption(values, 'seed', simulateUsage, { min: 0, fallback: 42 }) as number;
    const epochs = integerOption(values, 'epochs', simulateUsage);
    const momentum = numberOption(values, 'momentum', simulateUsage, { min: 0, max: 0.99, fallback: 0 });
    const batchSize = integerOption(values, 'batch-size', simulateUsage);
    const learningRate = numberOption(values, 'learning-rate', simulateUsage, { min: 1e-6, max: 10 });
    const trainLimit = integerOption(values, 'train-limit', simulateUsage);
    const testLimit = integerOption(values, 'test-limit', simulateUsage);
    const serverUrl = optionalString(values, 'server');
    const out = optionalString(values, 'out');
    const overrides = { epochs, batchSize, learningRate };
    const overridden = Object.entries({ epochs, 'batch-size': batchSize, 'learning-rate': learningRate }).find(([, v]) => v !== undefined);
    if (serverUrl && overridden)
      throw new UsageError(`--${overridden[0]} applies to the simulation's own server; a task on --server keeps its settings`, simulateUsage);

    const builtin = getBuiltinTask(taskId);
    if (!builtin) throw new CliError('unknown-task', `simulate needs a built-in task with bundled data (titanic, mnist), not "${taskId}"`);
    await startTf(choiceOption(values, 'backend', backends, simulateUsage, 'wasm'));
    const [train, test] = await Promise.all([
      loadBuiltinDataset(taskId, { split: 'train', limit: trainLimit }),
      loadBuiltinDataset(taskId, { split: 'test', limit: testLimit }),
    ]);
    const shards = shardDataset(train, clients, { split, seed });
    if (choiceOption(values, 'scheme', ['federated', 'decentralized'] as const, simulateUsage, 'federated') === 'decentralized') {
      const { simulateDecentralized } = await import('./decentralized.js');
      const extra = { split, trainExamples: train.count, testExamples: test.count };
      return await simulateDecentralized({ task: builtin, settings: { clients, rounds, ...overrides }, serverUrl, shards, test, reporter, verbose: values.verbose === true, out, extra });
    }

    const started = Date.now();
    const { createFederationApi } = await import('@disco/client');
    if (serverUrl) await checkRemoteTask(serverUrl, taskId, clients);
    const local = serverUrl ? undefined : await startOwnServer(simulationTask(builtin, { clients, rounds, ...overrides }));
    const url = serverUrl ?? (local as OwnServer).url;
    const apis: FederationApi[] = shards.map(() => createFederationApi(url, { WebSocket }));
    try {
      // Rounds count from the global model the run starts from (0 on a fresh server of our own).
      const startVersion = serverUrl ? await latestVersion(createFederationApi(url, { WebSocket }), taskId) : 0;
      const target = startVersion + rounds;
      const verbose = values.verbose === true;
      let first: FederatedClient | undefined;
      const sessions = shards.map((dataset, i) => {
        const client: FederatedClient = new FederatedClient({
          api: apis[i],
          taskId,
          dataset,
          rounds: target,
          momentum,
          // The global model is judged on the test split: clients keep all their data for training.
          validation: 0,
          onEvent: (event) => {
            if (verbose) reporter.event({ ...event, client: i });
            else if (event.type === 'log' && event.level === 'warn') reporter.event({ ...event, client: i });
            // Client 0 stands for the federation: when it reports a round, its model holds the new global weights.
            if (i === 0 && event.type === 'round') reporter.event(roundEvent(event, client, test));
          },
        });
        if (i === 0) first = client;
        return client;
      });
      const runs = await withStopSignals(
        () => sessions.forEach((c) => c.stop()),
        () => Promise.all(sessions.map((client) => drain(client.run()))),
      );
      const stopped = runs.some((done) => done?.stopped);
      const final = first as FederatedClient;
      const report = evaluateModel(final.model!, test);
      if (out && !stopped) await saveModelToDir(final.model!, out);
      const bytesSent = apis.reduce((sum, api) => sum + api.stats.bytesSent, 0);
      const bytesReceived = apis.reduce((sum, api) => sum + api.stats.bytesReceived, 0);
      reporter.event({
        type: 'done',
        testAccuracy: report.accuracy,
        testLoss: report.loss,
        accuracy: report.accuracy,
        loss: report.loss,
        rounds: final.modelVersion - startVersion,
        modelVersion: final.modelVersion,
        clients,
        split,
        ...(momentum && { momentum }),
        trainExamples: train.count,
        testExamples: test.count,
        bytesSent,
        bytesReceived,
        seconds: (Date.now() - started) / 1000,
        ...(stopped && { stopped }),
        ...(out && !stopped && { out }),
      });
      sessions.forEach((c) => c.model?.dispose());
      return stopped ? 130 : 0;
    } finally {
      apis.forEach((api) => api.close());
      await local?.close();
    }
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}

/** Refuses a task of `url` that no round could close with `clients` participants (or that is not federated). */
async function checkRemoteTask(url: string, taskId: string, clients: number): Promise<void> {
  const { createDiscoClient, closeDiscoClient, toDiscoApiError } = await import('@disco/client');
  const client = createDiscoClient(url);
  try {
    const { task } = await client.tasks.get.query({ id: taskId });
    if (task.scheme !== 'federated') throw new CliError('not-federated', `task "${taskId}" on ${url} is ${task.scheme}, not federated`);
    if (task.minParticipants > clients)
      throw new CliError(
        'too-few-clients',
        `task "${taskId}" on ${url} needs at least ${task.minParticipants} participants per round: run --clients ${task.minParticipants} or more`,
      );
  } catch (error) {
    throw error instanceof CliError ? error : toDiscoApiError(error);
  } finally {
    closeDiscoClient(client);
  }
}

/** The version of the task's latest global model (from its weights header), through a throw-away connection. */
async function latestVersion(api: FederationApi, taskId: string): Promise<number> {
  try {
    return readWeightsHeader(await api.downloadWeights(taskId)).header.modelVersion;
  } finally {
    api.close();
  }
}

function missing(name: string): never {
  throw new UsageError(`missing required option --${name}`, simulateUsage);
}

/** One line per global round: client 0's round event plus the new global model's accuracy on the test split. */
function roundEvent(event: Extract<TrainingEvent, { type: 'round' }>, client: FederatedClient, test: Dataset): TrainingEvent & Record<string, unknown> {
  const report = evaluateModel(client.model!, test);
  return { ...event, testAccuracy: report.accuracy, testLoss: report.loss };
}
