import {
  FederatedClient,
  getBuiltinTask,
  isAsync,
  readWeightsHeader,
  shardDataset,
  splitDataset,
  takeDataset,
  taskCreationIssues,
  type Dataset,
  type DoneEvent,
  type FederationApi,
  type Task,
  type TrainingEvent,
} from '@disco/core';
import { loadDataFromPath } from '@disco/core/node';
import WebSocket from 'ws';
import { choiceOption, CliError, integerOption, numberOption, optionalString, parseCommand, requireString, UsageError, type OptionSpec, type OptionValues } from './args.js';
import { backends, bundledData, isTaskFile, resolveTask, startTf, withStopSignals } from './common.js';
import { saveModelWithTask } from './model-dir.js';
import { testScores } from './scores.js';
import { Reporter, type CliIo } from './output.js';
import { DEFAULT_SECURE_CLIP, drain, simulationTask, startOwnServer, type OwnServer } from './simulation.js';
import { parseSpeeds } from './client-speeds.js';
import { aggregatorOptions, attackers, byzantineOptions, clientApi, poisonedShards, robustnessFields } from './byzantine.js';

/** `disco simulate --help`. */
export const simulateUsage = `Usage:
  disco simulate --task <id|file.json> --clients <n> --rounds <r> [--split iid|label-skew] [--seed s]
                 [--scheme federated|decentralized] [--server <url>] [--out <dir>] [--json]
                 [--mode sync|async] [--speeds a,b,…]
                 [--dp-clip <C> --dp-noise <z> [--dp-delta <δ>]] [--sample <q>] [--secure]
                 [--aggregator <name> [--aggregator-param <x>]] [--byzantine <k> --attack <name> [--attack-param <x>]]

Simulates a federated training on one machine: splits the task's built-in data among n clients, holds
out its test split, and runs the n clients at once against a server (its own, in this process, on a
free port with a temporary database, unless --server is given). Ends with the global model's accuracy
on the test split and the bytes exchanged; for a language model (shakespeare, or a text task file) also
its loss and perplexity on the test text, per predicted token.

Options:
  --task <id|file>     a built-in task with bundled data (titanic, mnist, shakespeare), or a task JSON
                       file whose id is one of them (its settings, privacy included, are the
                       simulation's task); with --data, any task file
  --data <path>        the data to deal to the clients instead of the bundled data (a CSV file, an
                       image folder, .txt files or a folder of them...): the task's validationSplit of
                       it (at least 10 %) is held out as the test split
  --clients <n>        number of simulated participants
  --rounds <r>         federated rounds to run
  --split <kind>       iid (default: random, even shards) or label-skew (each client holds ~2 classes)
  --seed <s>           seed of the split (default 42)
  --scheme <s>         federated (default) or decentralized: the clients are WebRTC peers that
                       exchange models with each other, the server only introduces them
  --server <url>       use this Disco server (the task must exist there) instead of starting one
  --mode <m>           sync (synchronous rounds) or async (FedBuff: the server publishes a version every
                       bufferSize updates, whoever sends them, each weighted by its staleness; nobody
                       waits for the slowest; decision 0013); default: the task's (own server only). With
                       async, --rounds counts versions, and the done line carries versions,
                       updatesAccepted and mode
  --speeds <a,b,…>     each client's relative slowness, one number ≥ 1 per client (e.g. 1,1,1,5: the
                       last client takes 5× as long per update: it sleeps 4× its training time before
                       each update it sends)
  --epochs <n>         local epochs per round (default: the task's epochsPerRound; own server only)
  --batch-size <n>     local batch size (default: the task's; own server only)
  --learning-rate <r>  local learning rate (default: the task's; own server only)
  --momentum <β>       momentum of the global model, applied by the clients (FedAvgM; default 0:
                       plain FedAvg); helps label-skewed splits, e.g. 0.9
  --dp-clip <C>        differential privacy (client-level DP-FedAvg; own server only): the server clips
                       every update to L2 norm C (C > 0)
  --dp-noise <z>       and adds Gaussian noise of std z·C to the sum of each round (z ≥ 0; needs
                       --dp-clip; with z > 0 every update weighs 1); every round line and the done line
                       carry the epsilon spent so far, at delta
  --dp-delta <δ>       the δ at which epsilon is reported, in (0, 1) (default 1e-5; needs --dp-noise)
  --sample <q>         each client takes part in each round with probability q, in (0, 1] (Poisson
                       sampling; default 1: every client every round; own server only)
  --secure             secure aggregation (own server, 3 clients or more): the server (or, decentralized,
                       each peer) learns only the sum of each round's masked updates; clients clip updates to --dp-clip
                       (default: the task's, else ${DEFAULT_SECURE_CLIP}) and weigh them by at most the task's
                       maxSamplesPerUpdate; the done line carries "secureAggregation": true
  --aggregator <name>  the task's aggregation strategy (own server only): fedavg, median, trimmed-mean,
                       krum, multi-krum or centered-clipping (docs/decisions/0012-robust-strategies.md)
  --aggregator-param <x>  its parameter: the fraction trimmed at each end (trimmed-mean, below 0.5;
                       default 0.1, which trims nothing below 10 clients), the number f of attackers
                       tolerated (krum, multi-krum; default 0) or the clipping radius (centered-clipping)
  --byzantine <k>      the last k clients (k < --clients) attack; they join, train and upload through
                       the same API as the others, only what they send differs
  --attack <name>      what they do: sign-flip (send −s × their update), gaussian (N(0, s²) noise),
                       label-flip (train on labels y → classes − 1 − y), alie ("a little is enough":
                       μ − zσ of the attackers' updates), ipm (−s × their mean), inflate-samples
                       (−s × the update, claiming the task's maxSamplesPerUpdate examples)
  --attack-param <x>   the attack's s or z (default: sign-flip 10, gaussian 1, alie the paper's z_max,
                       ipm 0.5, inflate-samples 1); the done line carries aggregator, byzantine, attack
  --train-limit <n>    use only the first n training examples (e.g. 6000 of MNIST's 60,000; text: windows
                       of the task's context length)
  --test-limit <n>     evaluate on only the first n test examples
  --out <dir>          save the final global model there (TF.js model.json + weights.bin, and the task
                       as task.json, which "disco evaluate" and "disco generate" read)
  --backend <name>     TF.js backend: wasm (default) or cpu
  --json               print every event as one JSON line
  --verbose            also print every client's own events (epochs, logs), tagged with "client"
  -h, --help           show this help`;

const options: OptionSpec = {
  task: { type: 'string' },
  data: { type: 'string' },
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
  'dp-clip': { type: 'string' },
  'dp-noise': { type: 'string' },
  'dp-delta': { type: 'string' },
  sample: { type: 'string' },
  secure: { type: 'boolean' },
  aggregator: { type: 'string' },
  'aggregator-param': { type: 'string' },
  mode: { type: 'string' },
  speeds: { type: 'string' },
  byzantine: { type: 'string' },
  attack: { type: 'string' },
  'attack-param': { type: 'string' },
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
    const taskArg = requireString(values, 'task', simulateUsage);
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
    const privacy = { ...privacyOptions(values), ...secureOptions(values, clients) };
    const aggregation = aggregatorOptions(values, simulateUsage);
    const byzantine = byzantineOptions(values, clients, simulateUsage);
    const mode = values.mode === undefined ? undefined : choiceOption(values, 'mode', ['sync', 'async'] as const, simulateUsage, 'sync');
    const speeds = parseSpeeds(optionalString(values, 'speeds'), clients, simulateUsage);
    const overrides = { epochs, batchSize, learningRate, privacy, aggregation, mode };
    const overridden = Object.entries({
      epochs,
      'batch-size': batchSize,
      'learning-rate': learningRate,
      'dp-clip': values['dp-clip'],
      'dp-noise': values['dp-noise'],
      'dp-delta': values['dp-delta'],
      sample: values.sample,
      secure: values.secure,
      aggregator: values.aggregator,
      mode: values.mode,
    }).find(([, v]) => v !== undefined);
    if (serverUrl && overridden)
      throw new UsageError(`--${overridden[0]} applies to the simulation's own server; a task on --server keeps its settings`, simulateUsage);

    const dataPath = optionalString(values, 'data');
    // A task file sets the simulation's task (its id names the bundled data, unless --data); flags override it.
    const fromFile = isTaskFile(taskArg) ? await resolveTask(taskArg) : undefined;
    const builtin: Task | undefined = fromFile && (dataPath || getBuiltinTask(fromFile.id)) ? fromFile : getBuiltinTask(taskArg);
    if (!builtin)
      throw new CliError(
        'unknown-task',
        `simulate needs a built-in task with bundled data (titanic, mnist, shakespeare), a task file with one of their ids, or --data with a task file, not "${fromFile?.id ?? taskArg}"`,
      );
    if (serverUrl && fromFile) throw new UsageError('--task <file> sets the simulation\'s own task; with --server, name the server\'s task by its id', simulateUsage);
    if (privacy.samplingRate !== undefined && values.scheme === 'decentralized') throw new UsageError('--sample applies to --scheme federated', simulateUsage);
    if ((mode || speeds) && values.scheme === 'decentralized') throw new UsageError(`--${mode ? 'mode' : 'speeds'} applies to --scheme federated (decision 0013)`, simulateUsage);
    const taskId = builtin.id;
    await startTf(choiceOption(values, 'backend', backends, simulateUsage, 'wasm'));
    const { train, test } = await simulationData(builtin, dataPath, trainLimit, testLimit);
    const shards = poisonedShards(shardDataset(train, clients, { split, seed }), byzantine);
    if (choiceOption(values, 'scheme', ['federated', 'decentralized'] as const, simulateUsage, 'federated') === 'decentralized') {
      const { simulateDecentralized } = await import('./decentralized.js');
      const extra = { split, trainExamples: train.count, testExamples: test.count };
      return await simulateDecentralized({ task: builtin, settings: { clients, rounds, ...overrides }, serverUrl, shards, test, reporter, verbose: values.verbose === true, out, extra, byzantine });
    }

    const started = Date.now();
    const { createFederationApi } = await import('@disco/client');
    const task = serverUrl ? await checkRemoteTask(serverUrl, taskId, clients) : checkedTask(simulationTask(builtin, { clients, rounds, ...overrides }));
    const local = serverUrl ? undefined : await startOwnServer(task);
    const url = serverUrl ?? (local as OwnServer).url;
    const attacker = attackers(byzantine, task, clients);
    const apis: FederationApi[] = shards.map((_, i) => clientApi(createFederationApi(url, { WebSocket }), attacker(i)));
    try {
      // Rounds count from the global model the run starts from (0 on a fresh server of our own).
      const startVersion = serverUrl ? await latestVersion(createFederationApi(url, { WebSocket }), taskId) : 0;
      const target = startVersion + rounds;
      const verbose = values.verbose === true;
      let first: FederatedClient | undefined;
      // One line per global model version, from the first client that reports it (under sampling, client 0
      // sits some rounds out); its model holds the new global weights at that moment.
      const reported = new Set<number>();
      const sessions = shards.map((dataset, i) => {
        const client: FederatedClient = new FederatedClient({
          api: apis[i],
          taskId,
          dataset,
          rounds: target,
          momentum,
          // --speeds: this client waits (slowness − 1) × its training time before each update it sends.
          slowdown: speeds?.[i] ?? 1,
          // The global model is judged on the test split: clients keep all their data for training.
          validation: 0,
          onEvent: (event) => {
            if (verbose) reporter.event({ ...event, client: i });
            else if (event.type === 'log' && event.level === 'warn') reporter.event({ ...event, client: i });
            if (event.type === 'round' && !reported.has(event.modelVersion)) {
              reported.add(event.modelVersion);
              reporter.event(roundEvent(event, client, test));
            }
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
      const privacy = privacySpent(runs);
      const final = first as FederatedClient;
      const scores = testScores(final.model!, test, final.task!);
      if (out && !stopped) await saveModelWithTask(final.model!, out, final.task!);
      const bytesSent = apis.reduce((sum, api) => sum + api.stats.bytesSent, 0);
      const bytesReceived = apis.reduce((sum, api) => sum + api.stats.bytesReceived, 0);
      reporter.event({
        type: 'done',
        ...scores,
        accuracy: scores.testAccuracy,
        loss: scores.testLoss,
        ...(scores.testPerplexity !== undefined && { perplexity: scores.testPerplexity }),
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
        ...robustnessFields(final.task, byzantine),
        // Asynchronous tasks: versions published during the run and the updates accepted from all clients.
        ...(final.task && isAsync(final.task) && {
          mode: 'async',
          versions: final.modelVersion - startVersion,
          updatesAccepted: runs.reduce((sum, done) => sum + (done?.updatesAccepted ?? 0), 0),
        }),
        ...(speeds && { speeds }),
        ...privacy,
        ...(runs.some((done) => done?.secureAggregation) && { secureAggregation: true }),
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

/** The task of `url`, refused when no round could close with `clients` participants (or when it is not federated). */
async function checkRemoteTask(url: string, taskId: string, clients: number): Promise<Task> {
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
    return task;
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

/**
 * The task privacy settings the DP flags ask for (`--dp-clip`, `--dp-noise`, `--dp-delta`, `--sample`), each
 * checked for its range and for the flags it needs; usage errors name the flag.
 */
export function privacyOptions(values: OptionValues): Partial<Task['privacy']> {
  const clip = positive(values, 'dp-clip');
  const noise = numberOption(values, 'dp-noise', simulateUsage, { min: 0, max: 1000 });
  const delta = openUnit(values, 'dp-delta');
  const sample = values.sample === undefined ? undefined : numberOption(values, 'sample', simulateUsage, { min: 0, max: 1 });
  if (sample !== undefined && !(sample > 0)) throw new UsageError(`--sample must be a probability above 0 and at most 1, got "${String(values.sample)}"`, simulateUsage);
  if (noise !== undefined && clip === undefined) throw new UsageError('--dp-noise needs --dp-clip: the noise is scaled to the clipping norm', simulateUsage);
  if (delta !== undefined && !(noise && noise > 0)) throw new UsageError('--dp-delta needs --dp-noise above 0: without noise there is no ε to report', simulateUsage);
  return {
    ...(clip !== undefined && { clippingNorm: clip }),
    ...(noise !== undefined && { noiseMultiplier: noise }),
    ...(delta !== undefined && { delta }),
    ...(sample !== undefined && sample < 1 && { samplingRate: sample }),
  };
}

function positive(values: OptionValues, name: string): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a positive number, got "${String(value)}"`, simulateUsage);
  return n;
}

function openUnit(values: OptionValues, name: string): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!(n > 0 && n < 1)) throw new UsageError(`--${name} must be a number between 0 and 1 (exclusive), got "${String(value)}"`, simulateUsage);
  return n;
}

/** The simulation's task, refused (every problem listed) when a server would refuse it, e.g. a budget the first round exceeds. */
function checkedTask(task: Task): Task {
  const result = taskCreationIssues(task, false);
  if (!result.ok) throw new CliError('invalid-task', `the simulation's task is not valid:\n${result.errors.map((e) => `  - ${e}`).join('\n')}`);
  return result.task;
}

/** The ε and δ the sessions ended with (the same for every client: the task's), and whether the budget stopped them. */
function privacySpent(runs: readonly (DoneEvent | undefined)[]): Pick<DoneEvent, 'epsilon' | 'delta' | 'budgetExhausted'> {
  const done = runs.find((run) => run?.epsilon !== undefined);
  if (!done) return {};
  return { epsilon: done.epsilon, delta: done.delta, ...(runs.some((run) => run?.budgetExhausted) && { budgetExhausted: true }) };
}

/** `--secure`: privacy.secureAggregation on the simulation's task (federated or decentralized); refuses fewer than 3 clients. */
function secureOptions(values: OptionValues, clients: number): Partial<Task['privacy']> {
  if (values.secure !== true) return {};
  if (clients < 3)
    throw new UsageError(`--secure needs --clients 3 or more: with ${clients}, the sum of a round would reveal each client's update to the others`, simulateUsage);
  return { secureAggregation: true };
}

function missing(name: string): never {
  throw new UsageError(`missing required option --${name}`, simulateUsage);
}

/**
 * One line per global round: client 0's round event plus the new global model's scores on the test split
 * (a language model's perplexity among them).
 */
function roundEvent(event: Extract<TrainingEvent, { type: 'round' }>, client: FederatedClient, test: Dataset): TrainingEvent & Record<string, unknown> {
  return { ...event, ...testScores(client.model!, test, client.task!) };
}

/**
 * The simulation's training and test data: the bundled data of the task's id, or `dataPath` with the task's
 * validation fraction (at least 10 %) held out as the test split, with the task's seed.
 */
async function simulationData(task: Task, dataPath: string | undefined, trainLimit?: number, testLimit?: number): Promise<{ train: Dataset; test: Dataset }> {
  if (!dataPath) {
    const [train, test] = await Promise.all([bundledData(task, 'train', trainLimit), bundledData(task, 'test', testLimit)]);
    return { train, test };
  }
  const all = await loadDataFromPath(dataPath, task, { requireLabels: true });
  const split = splitDataset(all, Math.max(0.1, task.training.validationSplit), task.training.seed);
  const limited = (ds: Dataset, limit?: number) => (limit === undefined ? ds : takeDataset(ds, limit));
  return { train: limited(split.train, trainLimit), test: limited(split.test, testLimit) };
}
