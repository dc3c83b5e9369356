import { FederatedClient, LocalClient, type DoneEvent, type Task, type TrainingEvent } from '@disco/core';
import { loadDataFromPath } from '@disco/core/node';
import WebSocket from 'ws';
import { choiceOption, integerOption, numberOption, optionalString, parseCommand, requireString, UsageError, type OptionSpec } from './args.js';
import { backends, bundledData, resolveTask, startTf, withStopSignals } from './common.js';
import { saveModelWithTask } from './model-dir.js';
import { doneLine, Reporter, type CliIo } from './output.js';

/** `disco train --help`. */
export const trainUsage = `Usage:
  disco train --task <id|file.json> [--data <path>] --scheme local [--epochs n] [--out <dir>] [--json]
  disco train --server <url> --task <id> [--data <path>] --scheme federated [--out <dir>] [--json]
  disco train --server <url> --task <id> [--data <path>] --scheme decentralized [--out <dir>] [--json]

Trains the task's model on your data: alone (local), or with the other participants of a task on a
Disco server (federated: your data stays here, only model updates travel; decentralized: models
travel directly between the participants over WebRTC, the server only introduces them).
Federated tasks with differential privacy: every round line and the done line carry the epsilon spent
so far (at delta); a task whose privacy budget is spent ends the session ("budgetExhausted": true).

Options:
  --task <id|file>   a built-in task (titanic, mnist, cifar10, shakespeare) or a task JSON file; with
                     --server, the id of a task on that server (its definition comes from the server)
  --data <path>      your labelled data: a CSV file (tabular tasks), an image folder, IDX or CIFAR-10
                     files, .txt files or a folder of them (text tasks); without it, the data bundled
                     with Disco for a task of that id (titanic, mnist, shakespeare: its training part)
  --scheme <s>       local, federated or decentralized (default: federated with --server, else local)
  --server <url>     the Disco server, e.g. http://127.0.0.1:8080 (federated, decentralized; default:
                     the DISCO_SERVER environment variable when --scheme names one of them)
  --epochs <n>       local: epochs to train (default: the task's epochsPerRound × rounds)
  --rounds <n>       federated: stop when the global model reaches this round (default: the task's rounds)
  --token <t>        federated: rejoin as the participant of an earlier session
  --momentum <β>     federated: momentum of the global model applied by this client (FedAvgM;
                     default 0); every participant of the task should use the same value
  --connect-timeout <s>  decentralized: seconds each attempt to connect to a peer may take (default 5;
                     3 attempts); connecting overlaps training, so raise it where training steps take
                     seconds (a language model on a busy machine)
  --out <dir>        save the trained model there (TF.js model.json + weights.bin, and the task as
                     task.json, which "disco evaluate" and "disco generate" read)
  --backend <name>   TF.js backend: wasm (default) or cpu
  --json             print every event as one JSON line
  --batches          also report every batch
  -h, --help         show this help

On a terminal, a progress bar (rounds, epochs, batches) is redrawn on stderr; never with --json or when
the output is not a terminal. DISCO_PROGRESS=1 forces it, DISCO_PROGRESS=0 turns it off.`;

const options: OptionSpec = {
  task: { type: 'string' },
  data: { type: 'string' },
  scheme: { type: 'string' },
  server: { type: 'string' },
  epochs: { type: 'string' },
  rounds: { type: 'string' },
  token: { type: 'string' },
  momentum: { type: 'string' },
  'connect-timeout': { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  batches: { type: 'boolean' },
};

/** `disco train`: local or federated training on the user's data. */
export async function trainCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io, batches: argv.includes('--batches') });
  try {
    const { values, help } = parseCommand(argv, options, trainUsage);
    if (help) {
      io.out(trainUsage);
      return 0;
    }
    const serverFlag = optionalString(values, 'server');
    const scheme = choiceOption(values, 'scheme', ['local', 'federated', 'decentralized'] as const, trainUsage, serverFlag ? 'federated' : 'local');
    // DISCO_SERVER serves a scheme that needs a server; it never turns a local session into a federated one.
    const server = serverFlag ?? (scheme === 'local' ? undefined : process.env.DISCO_SERVER || undefined);
    const taskArg = requireString(values, 'task', trainUsage);
    const dataPath = optionalString(values, 'data');
    // Without --data, the data bundled with Disco for the task's id (refused, naming --data, for other tasks).
    const load = (task: Task) => (dataPath ? loadDataFromPath(dataPath, task, { requireLabels: true }) : bundledData(task, 'train'));
    const backend = choiceOption(values, 'backend', backends, trainUsage, 'wasm');
    const out = optionalString(values, 'out');
    // The progress bar counts batches too (not printed unless --batches).
    const batchEvents = values.batches === true || reporter.progress;
    if (scheme !== 'local' && !server) throw new UsageError(`--scheme ${scheme} needs --server <url> (or DISCO_SERVER)`, trainUsage);
    if (scheme === 'local' && server) throw new UsageError('--server is for --scheme federated', trainUsage);

    await startTf(backend);
    if (scheme === 'local') {
      const task = await resolveTask(taskArg);
      const dataset = await load(task);
      const epochs = integerOption(values, 'epochs', trainUsage);
      const client = new LocalClient(task, dataset, { epochs, batchEvents });
      return await withStopSignals(
        () => client.stop(),
        () => report(client.run(), reporter, out ? () => saveModelWithTask(client.model, out, task) : undefined, out),
      );
    }

    if (scheme === 'decentralized') {
      const { decentralizedPeer } = await import('./decentralized.js');
      const connectTimeout = numberOption(values, 'connect-timeout', trainUsage, { min: 0.1, max: 600 });
      const peer = decentralizedPeer({
        server: server as string,
        taskId: taskArg,
        dataset: load,
        token: optionalString(values, 'token'),
        rounds: integerOption(values, 'rounds', trainUsage),
        ...(connectTimeout !== undefined && { connectTimeoutMs: connectTimeout * 1000 }),
      });
      try {
        return await withStopSignals(
          () => peer.client.stop(),
          () => report(peer.client.run(), reporter, out ? () => saveModelWithTask(peer.client.model!, out, peer.client.task!) : undefined, out),
        );
      } finally {
        peer.close();
      }
    }

    const { createFederationApi } = await import('@disco/client');
    const api = createFederationApi(server as string, { WebSocket });
    try {
      const client = new FederatedClient({
        api,
        taskId: taskArg,
        token: optionalString(values, 'token'),
        rounds: integerOption(values, 'rounds', trainUsage),
        momentum: numberOption(values, 'momentum', trainUsage, { min: 0, max: 0.99, fallback: 0 }),
        dataset: load,
      });
      return await withStopSignals(
        () => client.stop(),
        () => report(client.run(), reporter, out ? () => saveModelWithTask(client.model!, out, client.task!) : undefined, out, () => ({ modelVersion: client.modelVersion })),
      );
    } finally {
      api.close();
    }
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}

/**
 * Prints a session's events; the closing `done` is held back until the model is saved, so that it stays
 * the last line (and says where the model went). Returns the exit code: 0, or 130 when stopped by a signal.
 */
export async function report(
  session: AsyncIterable<TrainingEvent>,
  reporter: Reporter,
  save: (() => Promise<void>) | undefined,
  out: string | undefined,
  /** Fields the command adds to the done line (federated: the global model version reached). */
  extra: () => Record<string, unknown> = () => ({}),
): Promise<number> {
  let done: DoneEvent | undefined;
  for await (const event of session) {
    if (event.type === 'done') done = event;
    else reporter.event(event);
  }
  if (!done) throw new Error('the session ended without its done event');
  if (done.stopped) {
    reporter.event(doneLine(done, extra()));
    return 130;
  }
  if (save) await save();
  reporter.event(doneLine(done, { ...extra(), ...(save && out && { out }) }));
  return 0;
}
