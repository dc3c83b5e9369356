import type { DataFileReport, EvaluationReport, FederationApi, SignallingApi, PredictionRow, Scheme, Task, TrainingEvent } from '@disco/core';
import type { StoredModelFiles } from '../library/model-store.js';
import {
  deserializeError,
  type BackendSettings,
  type DataFile,
  type GenerationSettings,
  type ModelSource,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol.js';
import { servePorts } from './port-relay.js';
import { RtcRelay } from './rtc-relay.js';
import { explainWorkerFailure, startConfiguredWorker, type AssetSettings, type StartedWorker } from './worker-start.js';

/** What a training run in the worker ends with. */
export interface TrainedModel {
  model: StoredModelFiles;
  /** Examples loaded from the files. */
  samples: number;
  /** The participant token of a collaborative session, to rejoin later. */
  token?: string;
}

/** Options of {@link TrainingWorker.train}. */
export interface WorkerTrainOptions {
  files: DataFile[];
  task: Task;
  scheme: Scheme;
  backend: BackendSettings;
  /** Needed for federated training: the port to the server, called from the main thread. */
  federation?: FederationApi;
  /** Needed for decentralized training: the signalling port, called from the main thread (the peers' connections live here too). */
  peers?: SignallingApi;
  epochs?: number;
  rounds?: number;
  token?: string;
  onEvent: (event: TrainingEvent) => void;
  /** Called once the files are loaded, with the number of examples. */
  onExamples?: (count: number) => void;
}

interface Pending {
  resolve: (message: WorkerResponse) => void;
  reject: (error: Error) => void;
  onMessage?: (message: WorkerResponse) => void;
  federation?: FederationApi;
  peers?: SignallingApi;
}

/**
 * Main-thread handle on the training worker: request/response calls, training event streams, and the
 * ports served to the worker from this thread: the federation port, the decentralized signalling port and
 * the WebRTC connections of decentralized training (workers have none; see {@link RtcRelay}). One worker
 * per handle, started on first use.
 */
export class TrainingWorker {
  private worker: Worker | undefined;
  private requests = 0;
  private readonly pending = new Map<number, Pending>();
  /** The running session's ports, served to the worker. */
  private readonly ports = servePorts(
    (name) => {
      for (const pending of this.pending.values()) {
        const port = name === 'federation' ? pending.federation : pending.peers;
        if (port) return port;
      }
      return undefined;
    },
    (reply) => this.worker?.postMessage(reply),
  );
  private readonly rtc = new RtcRelay((message, transfer = []) => this.worker?.postMessage(message, transfer));
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private started: StartedWorker | undefined;

  /**
   * `spawn` starts the worker: by default from the page-wide settings (`workerUrl`, `assetsUrl`: see
   * `configure`); {@link TrainingWorker.at} takes an element's own.
   */
  constructor(private readonly spawn: () => Worker | StartedWorker = () => startConfiguredWorker()) {}

  /** A handle whose worker starts from an element's own settings, over the page-wide ones. */
  static at(settings: AssetSettings): TrainingWorker {
    return new TrainingWorker(() => startConfiguredWorker(settings));
  }

  /** Checks each file against the task: examples it adds, or its problems. */
  async validate(files: DataFile[], task: Task, requireLabels = true): Promise<DataFileReport[]> {
    const reply = await this.request({ type: 'validate', id: this.nextId(), files, task, requireLabels });
    return (reply as Extract<WorkerResponse, { type: 'validated' }>).reports;
  }

  /** Trains in the worker; resolves with the trained model, rejects with the worker's error. */
  train(options: WorkerTrainOptions): { id: number; done: Promise<TrainedModel> } {
    const id = this.nextId();
    const { files, task, scheme, epochs, rounds, token } = options;
    const backend = this.backendFor(options.backend);
    const done = this.request({ type: 'train', id, files, task, scheme, backend, epochs, rounds, token }, {
      federation: options.federation,
      peers: options.peers,
      onMessage: (message) => {
        if (message.type === 'event') options.onEvent(message.event);
        else if (message.type === 'examples') options.onExamples?.(message.count);
      },
    }).then((reply) => {
      const trained = reply as Extract<WorkerResponse, { type: 'trained' }>;
      return { model: trained.model, samples: trained.samples, token: trained.joined?.token };
    });
    return { id, done };
  }

  /** Asks the training `id` to stop after its current batch; it then ends normally (`stopped`). */
  stop(id: number): void {
    this.worker?.postMessage({ type: 'stop', id } satisfies WorkerRequest);
  }

  async evaluate(files: DataFile[], task: Task, model: ModelSource, backend: BackendSettings): Promise<{ report: EvaluationReport; classes: string[] }> {
    const reply = (await this.request({ type: 'evaluate', id: this.nextId(), files, task, model, backend: this.backendFor(backend) })) as Extract<WorkerResponse, { type: 'evaluated' }>;
    return { report: reply.report, classes: reply.classes };
  }

  async predict(files: DataFile[], task: Task, model: ModelSource, backend: BackendSettings): Promise<{ rows: PredictionRow[]; classes: string[]; csv: string }> {
    const reply = (await this.request({ type: 'predict', id: this.nextId(), files, task, model, backend: this.backendFor(backend) })) as Extract<WorkerResponse, { type: 'predicted' }>;
    return { rows: reply.rows, classes: reply.classes, csv: reply.csv };
  }

  /**
   * Continues `prompt` with a language model in the worker, calling `onText` with each piece of text as it is
   * decoded (whole characters). Resolves with the whole continuation; {@link stop} with the same `id` ends it
   * after the current token (`stopped: true`).
   */
  generate(
    task: Task,
    model: ModelSource,
    prompt: string,
    settings: GenerationSettings,
    backend: BackendSettings,
    onText: (text: string, tokens: number) => void,
  ): { id: number; done: Promise<{ text: string; tokens: number; stopped: boolean }> } {
    const id = this.nextId();
    const done = this.request(
      { type: 'generate', id, task, model, prompt, settings, backend: this.backendFor(backend) },
      { onMessage: (message) => message.type === 'generated-text' && onText(message.text, message.tokens) },
    ).then((reply) => {
      const { text, tokens, stopped } = reply as Extract<WorkerResponse, { type: 'generated' }>;
      return { text, tokens, stopped };
    });
    return { id, done };
  }

  /**
   * Ends the worker soon unless {@link keep} is called first: an element that is only moved in the page
   * (disconnected, then connected again at once) keeps its running session.
   */
  release(): void {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => this.terminate(), 0);
  }

  /** Cancels a pending {@link release}. */
  keep(): void {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  /** Ends the worker at once; pending calls reject. */
  terminate(): void {
    clearTimeout(this.releaseTimer);
    this.worker?.terminate();
    this.worker = undefined;
    this.started?.release();
    this.started = undefined;
    this.ports.closeAll();
    this.rtc.closeAll();
    const error = Object.assign(new Error('the training worker was stopped'), { name: 'AbortError' });
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private nextId(): number {
    return ++this.requests;
  }

  private request(message: WorkerRequest & { id: number }, extra: Omit<Pending, 'resolve' | 'reject'> = {}): Promise<WorkerResponse> {
    const worker = this.ensureWorker();
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject, ...extra });
      worker.postMessage(message);
    });
  }

  /** Ends a worker that failed to start, so that the next call starts a new one. */
  private discard(worker: Worker): void {
    worker.terminate();
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.started?.release();
    this.started = undefined;
  }

  /** The wasm folder of the settings, else the one the worker was started with (its own folder, for a shimmed worker). */
  private backendFor(backend: BackendSettings): BackendSettings {
    this.ensureWorker();
    const wasmPaths = backend.wasmPaths || this.started?.wasmPaths;
    return wasmPaths ? { ...backend, wasmPaths } : backend;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // A Content-Security-Policy that blocks the worker says so on the document, not on the worker.
    let violation: SecurityPolicyViolationEvent | undefined;
    const onViolation = (event: SecurityPolicyViolationEvent) => {
      if (['worker-src', 'script-src', 'script-src-elem', 'child-src'].includes(event.effectiveDirective)) violation ??= event;
    };
    const watching = typeof document !== 'undefined';
    if (watching) document.addEventListener('securitypolicyviolation', onViolation);
    const stopWatching = () => watching && document.removeEventListener('securitypolicyviolation', onViolation);
    let spawned: Worker | StartedWorker;
    try {
      spawned = this.spawn();
    } catch (error) {
      stopWatching();
      throw error;
    }
    const started = 'worker' in spawned ? spawned : undefined;
    const worker = started ? started.worker : (spawned as Worker);
    this.started = started;
    let answered = false;
    worker.addEventListener('message', (event: MessageEvent<WorkerResponse>) => {
      if (!answered) stopWatching();
      answered = true;
      this.handleMessage(event.data);
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const pending = [...this.pending.values()];
      this.pending.clear();
      // Before its first answer, an error is the worker failing to start: find out why, then say so.
      const url = started?.url;
      if (!answered) this.discard(worker);
      const failure =
        answered || !url
          ? Promise.resolve(new Error(event.message || 'the training worker could not start (is its script served?)'))
          : // the document's securitypolicyviolation event is queued as a task of its own: let it arrive first
            new Promise((resolve) => setTimeout(resolve, 50)).then(() => explainWorkerFailure(url, violation));
      void failure.then((error) => {
        stopWatching();
        for (const p of pending) p.reject(error);
      });
    });
    return (this.worker = worker);
  }

  private handleMessage(message: WorkerResponse): void {
    if (this.ports.handle(message) || this.rtc.handle(message)) return;
    const { id } = message as { id: number };
    const pending = this.pending.get(id);
    if (!pending) return;
    if (message.type === 'event' || message.type === 'examples' || message.type === 'generated-text') return pending.onMessage?.(message);
    this.pending.delete(id);
    if (message.type === 'failed') pending.reject(deserializeError(message.error));
    else pending.resolve(message);
  }
}
