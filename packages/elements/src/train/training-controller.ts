import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { formatEpsilon, type EpochMetrics, type FederationApi, type RoundState, type SignallingApi, type Scheme, type SubmitResult, type Task, type TrainingEvent } from '@disco/core';
import { schemeLabels } from '../base/labels.js';
import type { DiscoEventDetails, FinalMetrics } from '../events.js';
import type { ModelStore } from '../library/model-store.js';
import type { BackendSettings, DataFile } from '../worker/protocol.js';
import { TrainingWorker } from '../worker/worker-client.js';

/** Where a training session stands. */
export type TrainingPhase = 'empty' | 'validating' | 'invalid' | 'ready' | 'training' | 'stopping' | 'finished' | 'failed';

/** One data file as checked against the task. */
export interface FileCheck extends DataFile {
  /** Examples it adds (0 when bad or a labels file). */
  examples: number;
  /** Its problems, one per line; absent when good. */
  error?: string;
}

/** One point of the per-epoch charts. */
export interface EpochPoint extends EpochMetrics {
  /** `3`, or `2.3` for epoch 3 of round 2. */
  label: string;
}

/** One point of the per-round charts. */
export interface RoundPoint {
  round: number;
  /** This participant's metrics of its last epoch of the round. */
  local: EpochMetrics;
  /** Every participant's, aggregated by the server, when known. */
  aggregated?: EpochMetrics;
  participants: number;
}

/** Tasks with differential privacy: the ε the task has spent, as the last round reported it. */
export interface PrivacySpent {
  epsilon: number;
  delta: number;
  /** The rounds the task's model has been through (its version) when it was reported. */
  rounds: number;
}

/**
 * Asynchronous tasks (decision 0013): where the task's model stands and how stale this participant's updates
 * arrive, from the round events and the round states the server sends.
 */
export interface AsyncStatus {
  /** The latest model version published. */
  modelVersion: number;
  /** Updates waiting in the buffer of the next version, of `bufferSize` (when the server said). */
  buffered?: number;
  bufferSize?: number;
  /** How many versions old the base model of this participant's last accepted update was (0: the latest). */
  staleness?: number;
  /** Updates of this participant accepted in this session. */
  accepted: number;
}

/** A line of the training log. */
export interface LogLine {
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** Progress of the current round, epoch and batch (`0` of `n` before they start). */
export interface Progress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  round: number;
  rounds: number;
}

/** Decentralized training: the peers this participant is connected to, and the bytes exchanged with them. */
export interface PeersStatus {
  connected: number;
  /** Peers of the last round that could not be reached. */
  failed: string[];
  /** Bytes sent to and received from peers (framing included), since the session started. */
  bytesSent: number;
  bytesReceived: number;
}

/** What the controller needs from its element. */
export interface TrainingHost extends ReactiveControllerHost {
  emit<K extends keyof DiscoEventDetails>(name: K, detail: DiscoEventDetails[K]): unknown;
}

/** Options of {@link TrainingController.start}. */
export interface StartOptions {
  task: Task;
  scheme: Scheme;
  backend: BackendSettings;
  store: ModelStore;
  /** The server's federation port, for federated training. */
  federation?: () => Promise<FederationApi>;
  /** The server's signalling port, for decentralized training. */
  peers?: () => Promise<SignallingApi>;
  epochs?: number;
  rounds?: number;
}

const MAX_LOG_LINES = 300;

/**
 * The state of `<disco-train>` that outlives a render: the data files and their checks, the worker, the
 * running session's progress, metrics history and log, and its outcome. Drives the training worker and
 * turns its events into `disco-*` events on the element.
 */
export class TrainingController implements ReactiveController {
  phase: TrainingPhase = 'empty';
  files: FileCheck[] = [];
  /** Examples loaded for the running or last session. */
  examples = 0;
  progress: Progress = { epoch: 0, epochs: 0, batch: 0, batches: 0, round: 0, rounds: 0 };
  participants: number | undefined;
  /** Decentralized training: the peers now and the bytes exchanged. */
  peers: PeersStatus | undefined;
  epochs: EpochPoint[] = [];
  rounds: RoundPoint[] = [];
  log: LogLine[] = [];
  result: DiscoEventDetails['disco-train-end'] | undefined;
  error: Error | undefined;
  scheme: Scheme = 'local';
  /** Tasks with differential privacy: the ε spent so far, from the last round event that carried it. */
  privacySpent: PrivacySpent | undefined;
  /** Asynchronous tasks: the current version and this participant's staleness. */
  asyncStatus: AsyncStatus | undefined;
  /** Language models: perplexity is charted instead of accuracy. */
  languageModel = false;

  private worker: TrainingWorker | undefined;
  private runId: number | undefined;
  private validation = 0;
  private lastEpoch: EpochMetrics | undefined;

  constructor(
    private readonly host: TrainingHost,
    private readonly createWorker: () => TrainingWorker = () => new TrainingWorker(),
  ) {
    host.addController(this);
  }

  /** True while a session runs (including while it stops). */
  get running(): boolean {
    return this.phase === 'training' || this.phase === 'stopping';
  }

  /** Whether {@link start} may be called: files checked, all good, nothing running. */
  get canStart(): boolean {
    const dataReady = this.files.length > 0 && this.files.every((f) => !f.error) && this.files.some((f) => f.examples > 0);
    return (this.phase === 'ready' || this.phase === 'finished' || this.phase === 'failed') && dataReady;
  }

  hostConnected(): void {
    this.worker?.keep();
  }

  /** Removed from the page: the worker (and a running session, which then fails) ends unless the element comes back at once. */
  hostDisconnected(): void {
    this.worker?.release();
  }

  /**
   * Replaces the data files and checks them against the task in the worker. Resolves once checked. `refuse` says
   * why a file cannot serve the task at all (its type); such files are not sent to the worker.
   */
  async setFiles(files: DataFile[], task: Task | undefined, refuse: (file: DataFile) => string | undefined = () => undefined): Promise<void> {
    if (this.running) throw new Error('the data cannot change during training');
    const check = ++this.validation;
    this.files = files.map((f) => ({ ...f, examples: 0 }));
    this.error = undefined;
    this.phase = files.length === 0 ? 'empty' : 'validating';
    this.host.requestUpdate();
    if (files.length === 0 || !task) return;
    try {
      const refusals = files.map(refuse);
      const accepted = files.filter((_, i) => refusals[i] === undefined);
      const checked = accepted.length ? await this.ensureWorker().validate(accepted, task) : [];
      if (check !== this.validation) return;
      let next = 0;
      const reports = refusals.map((error) => (error === undefined ? checked[next++] : { examples: 0, error }));
      this.files = files.map((f, i) => ({ ...f, examples: reports[i]?.examples ?? 0, ...(reports[i]?.error && { error: reports[i].error }) }));
      const valid = this.files.every((f) => !f.error) && this.files.some((f) => f.examples > 0);
      if (valid === false && this.files.every((f) => !f.error))
        this.files = this.files.map((f) => ({ ...f, error: f.error ?? 'no examples in this file' }));
      this.phase = valid ? 'ready' : 'invalid';
      this.host.emit('disco-data-change', { files: files.length, valid });
    } catch (error) {
      if (check !== this.validation) return;
      this.fail(error, 'invalid-data');
    } finally {
      if (check === this.validation) this.host.requestUpdate();
    }
  }

  /** Starts a session; resolves when it has ended (finished, stopped or failed). */
  async start(options: StartOptions): Promise<void> {
    if (!this.canStart) throw new Error(this.running ? 'training is already running' : 'the data has not been checked, or has problems');
    const { task, scheme } = options;
    if (scheme !== 'local' && scheme !== task.scheme) {
      const error = new Error(
        `"${task.title}" is a ${schemeLabels[task.scheme].toLowerCase()} task: it can be trained ${task.scheme === 'local' ? 'on this device only' : `on this device only or ${task.scheme}`}, not ${scheme}.`,
      );
      this.fail(Object.assign(error, { code: 'unsupported-scheme' }), 'unsupported-scheme');
      this.host.requestUpdate();
      return;
    }
    this.scheme = scheme;
    this.phase = 'training';
    this.error = undefined;
    this.result = undefined;
    this.epochs = [];
    this.rounds = [];
    this.log = [];
    this.participants = undefined;
    this.peers = undefined;
    this.privacySpent = undefined;
    this.asyncStatus = task.mode === 'async' && scheme === 'federated' ? { modelVersion: 0, accepted: 0 } : undefined;
    this.languageModel = task.dataType === 'text';
    this.lastEpoch = undefined;
    const collaborative = scheme !== 'local';
    const rounds = collaborative ? (options.rounds ?? task.training.rounds) : 0;
    const epochs = collaborative ? task.training.epochsPerRound : (options.epochs ?? task.training.epochsPerRound * task.training.rounds);
    this.progress = { epoch: 0, epochs, batch: 0, batches: 0, round: 0, rounds };
    this.addLog('info', `Training "${task.title}" ${collaborative ? `with others (${scheme})` : 'on this device only'}.`);
    this.host.emit('disco-train-start', { taskId: task.id, scheme, files: this.files.length });
    this.host.requestUpdate();
    try {
      const port = scheme === 'federated' ? await options.federation?.() : undefined;
      // The worker's client talks through this port (relayed): what the server says of the rounds is seen here too.
      const federation = port && this.asyncStatus ? observeFederation(port, (state) => this.observeState(state), (result) => this.observeSubmit(result)) : port;
      if (scheme === 'federated' && !federation) throw Object.assign(new Error('collaborative training needs a server: set the "server" attribute'), { code: 'api' });
      const peers = scheme === 'decentralized' ? await options.peers?.() : undefined;
      if (scheme === 'decentralized' && !peers)
        throw Object.assign(new Error('decentralized training needs a Disco server to introduce the participants to each other: set the "server" attribute'), {
          code: 'api',
        });
      if (peers) this.peers = { connected: 0, failed: [], bytesSent: 0, bytesReceived: 0 };
      const run = this.ensureWorker().train({
        files: this.files.map(({ file, path }) => ({ file, path })),
        task,
        scheme,
        backend: options.backend,
        federation,
        peers,
        epochs: collaborative ? undefined : epochs,
        rounds: collaborative ? rounds : undefined,
        onEvent: (event) => this.handleEvent(event),
        onExamples: (count) => {
          this.examples = count;
          this.addLog('info', `${count} examples loaded from ${this.files.length} ${this.files.length === 1 ? 'file' : 'files'}.`);
        },
      });
      this.runId = run.id;
      // A stop asked for while the server was being reached reaches the worker now.
      if ((this.phase as TrainingPhase) === 'stopping') this.worker?.stop(run.id);
      const trained = await run.done;
      this.runId = undefined;
      // Both were changed by the events of the run, meanwhile.
      const ended = this.result as TrainingController['result'];
      const stopped = (this.phase as TrainingPhase) === 'stopping' || ended?.stopped === true;
      const metrics = ended?.metrics ?? {};
      const stats = ended?.stats ?? { bytesSent: 0, bytesReceived: 0 };
      let modelId = '';
      if (this.epochs.length > 0) {
        modelId = await options.store.save({ taskId: task.id, taskTitle: task.title, task, metrics, scheme, samples: trained.samples }, trained.model);
        this.addLog('info', 'The model was saved to the model library of this browser.');
      }
      this.result = { ...ended, metrics, modelId, stopped, stats };
      this.phase = 'finished';
      this.host.emit('disco-train-end', this.result);
    } catch (error) {
      this.runId = undefined;
      this.fail(error, 'training');
    } finally {
      this.host.requestUpdate();
    }
  }

  /** Stops the running session after its current batch; it ends as `finished` with `stopped: true`. */
  stop(): void {
    if (this.phase !== 'training') return;
    this.phase = 'stopping';
    if (this.runId !== undefined) this.worker?.stop(this.runId);
    this.addLog('info', 'Stopping after the current batch…');
    this.host.requestUpdate();
  }

  private handleEvent(event: TrainingEvent): void {
    const p = this.progress;
    switch (event.type) {
      case 'batch':
        p.batch = event.batch + 1;
        p.batches = event.batches;
        p.epoch = Math.max(p.epoch, event.epoch - 1);
        if (event.round !== undefined) p.round = Math.max(p.round, event.round - 1);
        break;
      case 'epoch': {
        const { loss, accuracy, valLoss, valAccuracy, perplexity, valPerplexity } = event;
        const metrics = this.withPerplexity({ loss, accuracy, valLoss, valAccuracy, perplexity, valPerplexity });
        this.lastEpoch = metrics;
        p.epoch = event.epoch;
        p.epochs = event.epochs;
        p.batch = p.batches;
        this.epochs = [...this.epochs, { label: event.round === undefined ? String(event.epoch) : `${event.round}.${event.epoch}`, ...metrics }];
        this.host.emit('disco-epoch-end', { epoch: event.epoch, epochs: event.epochs, ...(event.round !== undefined && { round: event.round }), metrics });
        break;
      }
      case 'round':
        p.round = event.round;
        p.rounds = event.rounds;
        this.participants = event.participants;
        this.rounds = [
          ...this.rounds,
          {
            round: event.round,
            local: this.withPerplexity(event.metrics),
            aggregated: event.metrics.aggregated && this.withPerplexity(event.metrics.aggregated),
            participants: event.participants,
          },
        ];
        if (this.asyncStatus)
          this.asyncStatus = {
            ...this.asyncStatus,
            modelVersion: Math.max(this.asyncStatus.modelVersion, event.modelVersion),
            ...(event.staleness !== undefined && { staleness: event.staleness }),
          };
        if (event.epsilon !== undefined && event.delta !== undefined) this.privacySpent = { epsilon: event.epsilon, delta: event.delta, rounds: event.modelVersion };
        this.addLog(
          'info',
          this.asyncStatus
            ? `Version ${event.round} of ${event.rounds}: the model is at version ${event.modelVersion}${
                event.staleness === undefined ? '' : `; your update arrived ${event.staleness} ${event.staleness === 1 ? 'version' : 'versions'} late`
              }.`
            : `Round ${event.round} of ${event.rounds} closed with ${event.participants} ${event.participants === 1 ? 'participant' : 'participants'}${
                event.epsilon === undefined ? '' : `; privacy spent: ε = ${formatEpsilon(event.epsilon)}`
              }.`,
        );
        // Rendered before listeners run, so that `updateComplete` in a `disco-round-end` listener shows this round.
        this.host.requestUpdate();
        this.host.emit('disco-round-end', {
          round: event.round,
          rounds: event.rounds,
          metrics: event.metrics,
          participants: event.participants,
          ...(event.epsilon !== undefined && { epsilon: event.epsilon, delta: event.delta }),
        });
        break;
      case 'participants':
        if (event.count !== this.participants) this.addLog('info', `${event.count} ${event.count === 1 ? 'participant' : 'participants'} now.`);
        this.participants = event.count;
        if (event.round !== undefined) p.round = Math.max(p.round, event.round - 1);
        break;
      case 'peers': {
        const before = this.peers;
        this.peers = { connected: event.connected, failed: event.failed, bytesSent: event.bytesSent, bytesReceived: event.bytesReceived };
        if (event.round !== undefined) p.round = Math.max(p.round, event.round - 1);
        if (before?.connected !== event.connected)
          this.addLog('info', `Connected to ${event.connected} ${event.connected === 1 ? 'peer' : 'peers'}.`);
        break;
      }
      case 'log':
        this.addLog(event.level, event.message);
        break;
      case 'done': {
        const metrics: FinalMetrics = {
          ...event.metrics,
          trainAccuracy: event.metrics.trainAccuracy ?? this.lastEpoch?.accuracy,
          trainLoss: event.metrics.trainLoss ?? this.lastEpoch?.loss,
        };
        const { secureAggregation, epsilon, delta, budgetExhausted } = event;
        this.result = {
          metrics,
          modelId: '',
          stopped: event.stopped,
          stats: event.stats,
          ...(secureAggregation && { secureAggregation }),
          ...(epsilon !== undefined && { epsilon, delta }),
          ...(budgetExhausted && { budgetExhausted }),
        };
        if (epsilon !== undefined && delta !== undefined) this.privacySpent = { epsilon, delta, rounds: event.rounds ?? this.privacySpent?.rounds ?? 0 };
        // The session closes its peer connections once done; the totals are the session's.
        if (this.peers) this.peers = { ...this.peers, connected: 0, bytesSent: event.stats.bytesSent, bytesReceived: event.stats.bytesReceived };
        if (p.rounds > 0 && !event.stopped && !budgetExhausted) p.round = p.rounds;
        this.addLog('info', event.stopped ? 'Training stopped.' : budgetExhausted ? 'Training stopped: the privacy budget is spent.' : 'Training finished.');
        break;
      }
    }
    this.host.requestUpdate();
  }

  /** Language models: perplexity is exp(loss) (the mean cross-entropy per token) where an event leaves it out. */
  private withPerplexity<M extends EpochMetrics>(metrics: M): M {
    if (!this.languageModel) return metrics;
    const exp = (loss: number | undefined) => (loss === undefined ? undefined : Math.exp(loss));
    return { ...metrics, perplexity: metrics.perplexity ?? exp(metrics.loss), valPerplexity: metrics.valPerplexity ?? exp(metrics.valLoss) };
  }

  /** Asynchronous tasks: a round state from the server (join, heartbeat, watch). */
  private observeState(state: RoundState): void {
    const status = this.asyncStatus;
    if (!status) return;
    this.asyncStatus = {
      ...status,
      modelVersion: Math.max(status.modelVersion, state.modelVersion),
      ...(state.mode === 'async' && { buffered: state.submitted, ...(state.bufferSize !== undefined && { bufferSize: state.bufferSize }) }),
    };
    this.host.requestUpdate();
  }

  /** Asynchronous tasks: the server accepted an update, `staleness` versions late. */
  private observeSubmit(result: SubmitResult): void {
    const status = this.asyncStatus;
    if (!status) return;
    this.asyncStatus = { ...status, accepted: status.accepted + 1, ...(result.staleness !== undefined && { staleness: result.staleness }) };
    this.host.requestUpdate();
  }

  private fail(error: unknown, code: string): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.error = failure;
    this.phase = 'failed';
    this.addLog('error', failure.message);
    const errorCode = (failure as Error & { code?: unknown }).code;
    this.host.emit('disco-error', { code: typeof errorCode === 'string' ? errorCode : code, message: failure.message });
  }

  private addLog(level: LogLine['level'], message: string): void {
    this.log = [...this.log.slice(-(MAX_LOG_LINES - 1)), { time: Date.now(), level, message }];
  }

  private ensureWorker(): TrainingWorker {
    return (this.worker ??= this.createWorker());
  }
}

/**
 * A federation port that reports what the server says of the rounds (`join`'s state, heartbeats, watched
 * states) and of accepted updates, before the caller sees it; everything else passes through unchanged.
 */
export function observeFederation(port: FederationApi, onState: (state: RoundState) => void, onSubmit: (result: SubmitResult) => void): FederationApi {
  return {
    join: (taskId, options) =>
      port.join(taskId, options).then((joined) => {
        onState(joined.state);
        return joined;
      }),
    heartbeat: (token) =>
      port.heartbeat(token).then((state) => {
        onState(state);
        return state;
      }),
    downloadWeights: (taskId, version) => port.downloadWeights(taskId, version),
    submitUpdate: (token, round, update) =>
      port.submitUpdate(token, round, update).then((result) => {
        onSubmit(result);
        return result;
      }),
    skipRound: (token, round) => port.skipRound(token, round),
    get secure() {
      return port.secure;
    },
    leave: (token) => port.leave(token),
    watchRounds: (taskId, token, listener, onError) =>
      port.watchRounds(
        taskId,
        token,
        (state) => {
          onState(state);
          listener(state);
        },
        onError,
      ),
    get stats() {
      return port.stats;
    },
    close: () => port.close(),
  };
}
