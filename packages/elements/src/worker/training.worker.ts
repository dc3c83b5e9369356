// The training worker of the elements: data validation, training (local or collaborative), evaluation and
// prediction run here, off the page's main thread, on TF.js's wasm backend.
import {
  browserImageDecoder,
  checkDataEntries,
  DecentralizedClient,
  evaluateModel,
  FederatedClient,
  generateTokens,
  initBackend,
  loadDataEntries,
  loadModelFromFiles,
  loadTokenizer,
  LocalClient,
  modelFromArtifacts,
  modelToArtifacts,
  predict,
  predictionsToCsv,
  type DataEntry,
  type Dataset,
  type Task,
  type TrainingEvent,
} from '@disco/core';
import { relayPort } from './port-relay.js';
import { createRelayedWrtc } from './relayed-wrtc.js';
import { serializeError, type BackendSettings, type DataFile, type ModelSource, type WorkerRequest, type WorkerResponse } from './protocol.js';

/** The worker's global scope, typed for what this file uses (the package's `lib` is the DOM's, not the worker's). */
const scope = self as unknown as {
  postMessage(message: WorkerResponse, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerRequest>) => void): void;
};
type LayersModel = Awaited<ReturnType<typeof modelFromArtifacts>>;

const post = (message: WorkerResponse, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
/** The server's ports, served by the main thread (see `port-relay.ts`); decentralized training's WebRTC too. */
const federation = relayPort('federation', post);
const signalling = relayPort('signalling', post);
const rtc = createRelayedWrtc(post);
/** Running sessions by request id, to stop them. */
const sessions = new Map<number, { stop(): void }>();
/** Stops asked for before their session started (while its data was loading). */
const stopRequests = new Set<number>();

/**
 * Runs a session to its end, passing each event to `forward`. It is registered meanwhile, so that a `stop`
 * request can reach it, and stopped at once when that was already asked for.
 */
async function runTracked(id: number, session: { stop(): void; run(): AsyncIterable<TrainingEvent> }, forward: (event: TrainingEvent) => void): Promise<void> {
  sessions.set(id, session);
  if (stopRequests.delete(id)) session.stop();
  try {
    for await (const event of session.run()) forward(event);
  } finally {
    sessions.delete(id);
  }
}

scope.addEventListener('message', (event) => {
  const request = event.data;
  if (federation.handle(request) || signalling.handle(request) || rtc.handle(request)) return;
  void handle(request).catch((error: unknown) => {
    if ('id' in request) post({ type: 'failed', id: request.id, error: serializeError(error) });
  });
});

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'validate': {
      const reports = await checkDataEntries(await entriesOf(request.files), request.task, {
        decode: browserImageDecoder,
        requireLabels: request.requireLabels,
      });
      return post({ type: 'validated', id: request.id, reports });
    }
    case 'train':
      return train(request);
    case 'stop': {
      const session = sessions.get(request.id);
      if (session) session.stop();
      else stopRequests.add(request.id);
      return;
    }
    case 'evaluate': {
      await initBackend(request.backend);
      const dataset = await loadData(request.files, request.task);
      const model = await loadModel(request.model, request.task);
      try {
        return post({ type: 'evaluated', id: request.id, report: evaluateModel(model, dataset), classes: dataset.classes });
      } finally {
        model.dispose();
      }
    }
    case 'generate':
      return generate(request);
    case 'predict': {
      await initBackend(request.backend);
      const dataset = await loadData(request.files, request.task, false);
      const model = await loadModel(request.model, request.task);
      try {
        const rows = predict(model, dataset);
        return post({ type: 'predicted', id: request.id, rows, classes: dataset.classes, csv: predictionsToCsv(rows, dataset.classes) });
      } finally {
        model.dispose();
      }
    }
  }
}

async function train(request: Extract<WorkerRequest, { type: 'train' }>): Promise<void> {
  const { id, task } = request;
  await initBackend(request.backend satisfies BackendSettings);
  const dataset = await loadData(request.files, task);
  post({ type: 'examples', id, count: dataset.count });
  const forward = (event: TrainingEvent) => post({ type: 'event', id, event });

  let model: LayersModel;
  let joined: { participantId: string; token: string } | undefined;
  if (request.scheme === 'local') {
    const client = new LocalClient(task, dataset, { epochs: request.epochs, batchEvents: true });
    await runTracked(id, client, forward);
    model = client.model;
  } else if (request.scheme === 'decentralized') {
    // The peers' connections live on the main thread (workers have no WebRTC), relayed by `rtc`.
    const client = new DecentralizedClient({ api: signalling.port, taskId: task.id, dataset, rounds: request.rounds, token: request.token, wrtc: rtc.wrtc });
    await runTracked(id, client, forward);
    if (!client.model) throw new Error('the session ended before the model was built');
    model = client.model;
    if (client.token) joined = { participantId: client.participantId ?? '', token: client.token };
  } else {
    const client = new FederatedClient({ api: federation.port, taskId: task.id, dataset, rounds: request.rounds, token: request.token });
    await runTracked(id, client, forward);
    if (!client.model) throw new Error('the session ended before the model was built');
    model = client.model;
    if (client.token) joined = { participantId: '', token: client.token };
  }
  const files = await modelToArtifacts(model);
  model.dispose();
  post({ type: 'trained', id, model: files, samples: dataset.count, joined }, [files.weightsBin.buffer as ArrayBuffer]);
}

/**
 * Continues a prompt with a language model, token by token (core's `generateTokens`, with its key/value cache),
 * posting the text as the tokenizer's stream decoder completes characters: a GPT-2 token may end inside a
 * UTF-8 character, whose bytes wait for the next token. Registered as a session, so that `stop` ends it after
 * the current token. An empty prompt starts a new document (`<|endoftext|>`); generating it ends the text.
 */
async function generate(request: Extract<WorkerRequest, { type: 'generate' }>): Promise<void> {
  const { id, task, settings } = request;
  await initBackend(request.backend);
  const [tokenizer, model] = await Promise.all([loadTokenizer(task.text?.tokenizer), loadModel(request.model, task)]);
  const abort = new AbortController();
  sessions.set(id, { stop: () => abort.abort() });
  if (stopRequests.delete(id)) abort.abort();
  let text = '';
  let tokens = 0;
  try {
    const encoded = tokenizer.encode(request.prompt);
    const prompt = encoded.length > 0 ? encoded : [tokenizer.endOfText];
    const decoder = tokenizer.streamDecoder();
    const { maxTokens, temperature, topK, seed } = settings;
    try {
      for await (const token of generateTokens(model, prompt, { maxTokens, temperature, topK, seed, signal: abort.signal })) {
        tokens++;
        if (token === tokenizer.endOfText) break;
        const piece = decoder.push(token);
        if (piece) {
          text += piece;
          post({ type: 'generated-text', id, text: piece, tokens });
        }
        if (abort.signal.aborted) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error; // a stop may end the generator with an AbortError: that is a stop, not a failure
    }
    const rest = decoder.flush();
    if (rest) {
      text += rest;
      post({ type: 'generated-text', id, text: rest, tokens });
    }
    post({ type: 'generated', id, text, tokens, stopped: abort.signal.aborted });
  } finally {
    sessions.delete(id);
    model.dispose();
  }
}

async function loadModel(source: ModelSource, task: Task): Promise<LayersModel> {
  if (source.kind === 'files') return modelFromArtifacts(source.files.modelJson, source.files.weightsBin, { task });
  return loadModelFromFiles(source.modelJson, source.weights, { task });
}

/** Reads the files into memory, named by their path in the folder they came from. */
function entriesOf(files: DataFile[]): Promise<DataEntry[]> {
  return Promise.all(files.map(async ({ file, path }) => ({ name: path, bytes: new Uint8Array(await file.arrayBuffer()) })));
}

function loadData(files: DataFile[], task: Task, requireLabels = true): Promise<Dataset> {
  return entriesOf(files).then((entries) => loadDataEntries(entries, task, { decode: browserImageDecoder, requireLabels }));
}
