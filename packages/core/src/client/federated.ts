import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { evaluateModel } from '../evaluation/index.js';
import { buildModel, getFlatWeights, setFlatWeights, weightShapes } from '../model/index.js';
import { cryptoRandom } from '../privacy/noise.js';
import { formatEpsilon } from '../privacy/rounds.js';
import type { Task } from '../task/schema.js';
import type { EpochMetrics, SessionStats, TrainingEvent } from '../training/events.js';
import { Trainer } from '../training/index.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import { describeShapeMismatch, subtract, type FlatWeights } from '../weights/flat.js';
import { DiscoApiError, type ApiErrorCode } from './api-errors.js';
import { claimedSamples } from './check-update.js';
import { prepareSecureUpdate, secureEncoding } from '../secure/prepare.js';
import { runSecureRound } from './secure-round.js';
import { isAsync } from '../aggregation/staleness.js';
import { runAsyncSession, type AsyncProgress } from './async-federated.js';
import type { FederationApi, PrivacySpentState, RoundState } from './federation-api.js';
import { absentClasses, lookahead, maskClasses, outputBiasOffset, unmaskClasses } from './non-iid.js';
import { aggregatedMetrics, finalMetrics, finiteMetrics, participantData, streamSession, trainLocalRound, wakeAll, type ParticipantOptions } from './round-training.js';
import { backoffDelay, SessionStopped, sleep, throwIfStopped, type BackoffOptions } from './session.js';

/** Options of a {@link FederatedClient}. */
export interface FederatedClientOptions extends ParticipantOptions<FederationApi> {
  /**
   * Label skew: classes absent from this participant's data get no probability during its local training, so
   * that its update does not teach the model to never predict them (restricted softmax; see
   * {@link maskClasses}). Default true; applies to models that end in a softmax layer with a bias.
   */
  maskAbsentClasses?: boolean;
  /**
   * Momentum β of the global model (FedAvgM, computed by each client so that any FedAvg server runs it):
   * local training starts from `global + β × (global − previous global)` (see {@link lookahead}). Default 0.
   * Kept for servers without a server optimizer: the way now is the task's `aggregation.serverOptimizer`
   * (`{ name: 'momentum' }`), applied once by the server for every participant (decision 0012). Do not combine
   * both: the two momenta compound.
   */
  momentum?: number;
  /** Reconnection back-off. */
  backoff?: BackoffOptions;
  /**
   * Simulations: this participant behaves as a device `slowdown` times slower than this one (1, the default:
   * as fast as it is): after each local training it waits (slowdown − 1) × that training's duration before
   * sending its update (`disco simulate --speeds`).
   */
  slowdown?: number;
}

/** What the session ends with, besides the `done` event. */
export interface FederatedResult {
  /** The global model version the session ended with. */
  modelVersion: number;
  /** Rounds this participant submitted an update to (asynchronous tasks: its accepted updates). */
  roundsTrained: number;
  /** Asynchronous tasks: the updates the server accepted from this participant. */
  updatesAccepted?: number;
  accuracy?: number;
  loss?: number;
}

/**
 * A participant of a federated task. {@link run} joins the task (or rejoins with a kept token), downloads
 * the global model, and for each round trains the task's local epochs, sends the difference to the global
 * weights (in the task's quantization) and waits for the next global model; until the global model
 * reaches the last round. Heartbeats keep the participant active; lost connections are retried with
 * exponential back-off, rejoining with the same token (a restarted server resumes from its database).
 *
 * The session is one async stream of events: the {@link Trainer}'s `batch` and `epoch` events, then
 * `round` and `participants` events, and a closing `done` with the final metrics of the global model.
 * Works unchanged in Node and in browsers.
 *
 * @example
 * ```ts
 * const client = new FederatedClient({ api: createFederationApi(url), taskId: 'titanic', dataset });
 * for await (const event of client.run()) console.log(event);
 * await saveModelToDir(client.model!, './out');
 * ```
 */
export class FederatedClient {
  private readonly options: FederatedClientOptions;
  private readonly api: FederationApi;
  private readonly abort = new AbortController();
  private state: RoundState | null = null;
  private readonly stateWaiters: (() => void)[] = [];
  private lastParticipants = -1;
  private unsubscribe: (() => void) | null = null;
  private subscriptionBroken = false;
  private emit: (event: TrainingEvent) => void = () => {};
  private global: FlatWeights | null = null;
  /** The global model before the current one (momentum only). */
  private previousGlobal: Float32Array | null = null;
  /** Classes this participant has no example of, and where the output bias is, when masking applies. */
  private mask: { absent: number[]; biasOffset: number } | null = null;
  private running = false;
  private serverHeartbeatMs: number | undefined;
  /** This participant's id (secure rounds bind it into their keys). */
  private participantId: string | undefined;
  /** Asynchronous tasks: the session's counters. */
  private asyncProgress: AsyncProgress | null = null;

  /** The participant token, once joined: keep it to rejoin later with `options.token`. */
  token: string | undefined;
  /** The task as the server describes it, once joined. */
  task: Task | undefined;
  /** The model being trained; after the session, it holds the final global weights. */
  model: tf.LayersModel | undefined;
  /** The global model version held now (-1 before the first download). */
  modelVersion = -1;

  constructor(options: FederatedClientOptions) {
    this.options = options;
    this.api = options.api;
    this.token = options.token;
    this.model = options.model;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Bytes exchanged with the server so far (from the API's transfer statistics). */
  get stats(): SessionStats {
    return { bytesSent: this.api.stats.bytesSent, bytesReceived: this.api.stats.bytesReceived };
  }

  /** Stops the session: training stops at the next batch, the participant leaves, and the stream ends with `done` (`stopped: true`). */
  stop(): void {
    this.abort.abort();
  }

  /** Runs the session; see the class description. Can be iterated once. */
  async *run(): AsyncGenerator<TrainingEvent, FederatedResult | undefined> {
    if (this.running) throw new Error('a FederatedClient runs one session at a time');
    this.running = true;
    return yield* streamSession({
      start: (emit) => {
        this.emit = emit;
        return this.session();
      },
      onEvent: (event) => this.options.onEvent?.(event),
      stopped: () => this.abort.signal.aborted,
      stoppedEvent: () => ({
        type: 'done',
        metrics: {},
        stats: this.stats,
        rounds: Math.max(0, this.modelVersion),
        ...(this.asyncProgress && { updatesAccepted: this.asyncProgress.updatesAccepted, versions: Math.max(0, this.modelVersion) }),
        stopped: true,
      }),
      stop: () => this.stop(),
      cleanup: () => this.cleanup(),
    });
  }

  private async session(): Promise<FederatedResult> {
    const signal = this.abort.signal;
    await this.connect();
    const task = this.task as Task;
    const target = this.options.rounds ?? task.training.rounds;
    const model = (this.model ??= buildModel(task));
    const { train, validation } = await participantData(this.options.dataset, this.options.validation, task);
    const absent = this.options.maskAbsentClasses === false ? [] : absentClasses(train);
    const biasOffset = absent.length ? outputBiasOffset(model, train.classes.length) : null;
    this.mask = biasOffset === null ? null : { absent, biasOffset };
    const trainer = new Trainer(model, task.training);
    const heartbeat = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs ?? this.serverHeartbeatMs ?? 5_000);
    try {
      if (isAsync(task)) return await this.asyncSession(trainer, train, validation, task, target);
      let lastTrained = 0;
      let roundsTrained = 0;
      let local: EpochMetrics | null = null;
      let budgetExhausted = false;
      const samplingRate = task.privacy.samplingRate ?? 1;
      const coin = cryptoRandom();
      if ((this.state as RoundState).modelVersion >= target)
        this.emit({
          type: 'log',
          level: 'warn',
          message: `the global model already reached round ${target} (v${(this.state as RoundState).modelVersion}): nothing left to train; pass a higher rounds target (--rounds) to continue`,
        });
      for (;;) {
        throwIfStopped(signal);
        const state = this.state as RoundState;
        if (state.modelVersion > this.modelVersion) {
          const previous = this.modelVersion;
          await this.download(state.modelVersion);
          // A round event for each round this participant trained in; rounds it missed are only logged.
          if (previous >= 0 && local && lastTrained > previous)
            this.emit({
              type: 'round',
              round: lastTrained,
              rounds: target,
              metrics: { ...local, ...(state.metrics && { aggregated: aggregatedMetrics(state.metrics, task) }) },
              participants: state.participants,
              modelVersion: this.modelVersion,
              ...spent(state.privacy),
            });
          else if (previous >= 0) this.emit({ type: 'log', level: 'info', message: `global model v${this.modelVersion} received` });
          local = null;
        }
        if (this.modelVersion >= target) break;
        // The task's privacy budget is spent: no further round opens, so the session ends here.
        if (state.privacy?.exhausted && state.phase !== 'open' && state.modelVersion === this.modelVersion) {
          budgetExhausted = true;
          this.emit({
            type: 'log',
            level: 'warn',
            message: `training stopped at model v${this.modelVersion}: the task's privacy budget is spent (ε = ${formatEpsilon(state.privacy.epsilon)} of ε = ${state.privacy.budget} at δ = ${state.privacy.delta}; one more round would exceed it)`,
          });
          break;
        }
        if (state.phase === 'open' && state.round > lastTrained && state.modelVersion === this.modelVersion) {
          lastTrained = state.round;
          // Poisson sampling (privacy.samplingRate q < 1): a fresh crypto-random coin per round; on tails this
          // participant sits the round out and says so, so that the round does not wait for it.
          if (samplingRate < 1 && coin() >= samplingRate) await this.skip(state.round);
          else {
            local = await this.trainRound(trainer, train, validation, state.round, task);
            if (local) roundsTrained += 1;
          }
        }
        await this.waitForState((s) => s.modelVersion > this.modelVersion || (s.phase === 'open' && s.round > lastTrained) || s.privacy?.exhausted === true);
      }
      const metrics = evaluateModel(model, validation ?? train);
      const result: FederatedResult = { modelVersion: this.modelVersion, roundsTrained, accuracy: metrics.accuracy, loss: metrics.loss };
      // accuracy and loss: the final global model on this participant's held-out data (its training data if none).
      this.emit({ type: 'done', metrics: finalMetrics(metrics), stats: this.stats, rounds: this.modelVersion, roundsTrained, stopped: false, ...(task.privacy.secureAggregation && { secureAggregation: true }), ...spent((this.state as RoundState).privacy), ...(budgetExhausted && { budgetExhausted }) });
      return result;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** One round: local epochs from the global weights, then the update. Returns this participant's metrics, or null when the round closed without its update. */
  private async trainRound(trainer: Trainer, train: Dataset, validation: Dataset | undefined, round: number, task: Task): Promise<EpochMetrics | null> {
    const trained = await this.localUpdate(trainer, train, validation, round, task);
    if (trained.secure) return this.secureRound(round, task, trained.secure, trained.metrics);
    return (await this.submit(round, trained.update)) ? trained.metrics : null;
  }

  /**
   * Local epochs from the global model held, and the update they give: the encoded delta (header
   * `modelVersion` = the version held), or what a secure round masks. Shared by both modes.
   */
  private async localUpdate(
    trainer: Trainer,
    train: Dataset,
    validation: Dataset | undefined,
    round: number,
    task: Task,
  ): Promise<{ metrics: EpochMetrics; update: Uint8Array; secure?: undefined } | { metrics: EpochMetrics; secure: { start: Float32Array; local: Float32Array; examples: number } }> {
    const signal = this.abort.signal;
    const model = this.model as tf.LayersModel;
    const global = this.global as FlatWeights;
    const momentum = this.options.momentum ?? 0;
    // Where local training starts: the global weights, moved by the momentum, with absent classes masked.
    const start = lookahead(global.values, this.previousGlobal, momentum);
    const { mask } = this;
    if (mask || (momentum && this.previousGlobal))
      setFlatWeights(model, { values: mask ? maskClasses(start, mask.biasOffset, mask.absent) : start, shapes: global.shapes });
    const started = Date.now();
    const metrics = await trainLocalRound(model, { trainer, train, validation, round, task, signal, emit: this.emit });
    // A simulated slower device: as if training had taken `slowdown` times as long.
    const slowdown = this.options.slowdown ?? 1;
    if (slowdown > 1) await sleep((slowdown - 1) * (Date.now() - started), signal);
    const local = getFlatWeights(model);
    if (mask) unmaskClasses(local.values, start, mask.biasOffset, mask.absent);
    // The claimed weight never exceeds the task's bound (`maxSamplesPerUpdate`): the server refuses a
    // larger claim, so a participant with more data than that weighs as much as the bound and no more.
    const samples = claimedSamples(task, train.count);
    if (task.privacy.secureAggregation) return { metrics, secure: { start: global.values, local: local.values, examples: samples } };
    const update = encodeWeights(
      { values: subtract(local.values, global.values), shapes: global.shapes },
      { taskId: task.id, modelVersion: this.modelVersion, dtype: task.quantization, meta: { samples, ...finiteMetrics(metrics) } },
    );
    return { metrics, update };
  }

  /** An asynchronous task's session (FedBuff, decision 0013): the loop of `async-federated.ts` over this client's pieces. */
  private async asyncSession(trainer: Trainer, train: Dataset, validation: Dataset | undefined, task: Task, target: number): Promise<FederatedResult> {
    const model = this.model as tf.LayersModel;
    this.asyncProgress = { updatesAccepted: 0, updatesRefused: 0 };
    const outcome = await runAsyncSession({
      task,
      progress: this.asyncProgress,
      target,
      signal: this.abort.signal,
      emit: (event) => this.emit(event),
      state: () => this.state as RoundState,
      held: () => this.modelVersion,
      download: (version) => this.download(version),
      train: async (round) => {
        const trained = await this.localUpdate(trainer, train, validation, round, task);
        if (trained.secure) throw new Error(`task "${task.id}" combines mode async with secure aggregation, which the schema refuses`);
        return trained;
      },
      submit: (round, update) => this.call(() => this.api.submitUpdate(this.token as string, round, update)),
      refresh: async () => {
        this.updateState(await this.call(() => this.api.heartbeat(this.token as string)));
        return this.state as RoundState;
      },
      waitForState: (ready) => this.waitForState(ready),
    });
    const metrics = evaluateModel(model, validation ?? train);
    const { updatesAccepted, budgetExhausted } = outcome;
    this.emit({
      type: 'done',
      metrics: finalMetrics(metrics),
      stats: this.stats,
      rounds: this.modelVersion,
      versions: this.modelVersion,
      updatesAccepted,
      stopped: false,
      ...spent((this.state as RoundState).privacy),
      ...(budgetExhausted && { budgetExhausted }),
    });
    return { modelVersion: this.modelVersion, roundsTrained: updatesAccepted, updatesAccepted, accuracy: metrics.accuracy, loss: metrics.loss };
  }

  /** A secure task's round after training: the masked steps (`secure-round.ts`) instead of a plain update. */
  private async secureRound(round: number, task: Task, update: { start: Float32Array; local: Float32Array; examples: number }, metrics: EpochMetrics): Promise<EpochMetrics | null> {
    const outcome = await runSecureRound(
      {
        api: this.api,
        token: this.token as string,
        taskId: task.id,
        participantId: this.participantId as string,
        round,
        waitForState: async (ready) => {
          await this.waitForState(ready);
          return this.state as RoundState;
        },
        call: (fn) => this.call(fn),
      },
      (participants) => prepareSecureUpdate(update, secureEncoding(task, participants, update.start.length)).words,
    );
    if (outcome.status === 'sent') return metrics;
    this.emit({ type: 'log', level: 'warn', message: `secure round ${round} went on without this participant's input (${outcome.reason})` });
    return null;
  }

  /** Sits `round` out (sampling), moving on when the round closed meanwhile. */
  private async skip(round: number): Promise<void> {
    try {
      await this.call(() => this.api.skipRound(this.token as string, round));
    } catch (error) {
      if (error instanceof SessionStopped) throw error;
      const state = await this.call(() => this.api.heartbeat(this.token as string));
      this.updateState(state);
      if (state.round === round && state.phase === 'open') throw error; // refused for another reason: report it
    }
  }

  /** Submits, moving on (false) when the server says the round closed meanwhile (e.g. its deadline passed). */
  private async submit(round: number, update: Uint8Array): Promise<boolean> {
    try {
      await this.call(() => this.api.submitUpdate(this.token as string, round, update));
      return true;
    } catch (error) {
      if (error instanceof SessionStopped) throw error;
      // A retried submission whose first attempt did arrive.
      if (errorCode(error) === 'DUPLICATE_UPDATE') return true;
      const state = await this.call(() => this.api.heartbeat(this.token as string));
      this.updateState(state);
      if (state.round === round && state.phase === 'open') throw error; // refused for another reason: report it
      this.emit({ type: 'log', level: 'warn', message: `round ${round} closed before the update arrived (${(error as Error).message}); moving on to round ${state.round}` });
      return false;
    }
  }

  private async download(version: number): Promise<void> {
    const bytes = await this.call(() => this.api.downloadWeights(this.options.taskId, version));
    const { header, weights } = decodeWeights(bytes);
    const model = this.model as tf.LayersModel;
    const mismatch = describeShapeMismatch(weightShapes(model), weights.shapes);
    if (mismatch) throw new Error(`the server's model does not fit this client's: ${mismatch}`);
    if (this.options.momentum) {
      // The momentum needs the version before this one: the one held, or (after a gap) downloaded.
      if (this.global && this.modelVersion === version - 1) this.previousGlobal = this.global.values;
      else if (version >= 1) this.previousGlobal = decodeWeights(await this.call(() => this.api.downloadWeights(this.options.taskId, version - 1))).weights.values;
      else this.previousGlobal = null;
    }
    setFlatWeights(model, weights);
    this.global = weights;
    this.modelVersion = header.modelVersion;
  }

  /** Joins (or rejoins with the kept token) and subscribes to round changes. */
  private async connect(): Promise<void> {
    const joined = await this.call(() => this.api.join(this.options.taskId, this.token ? { token: this.token } : undefined), false);
    this.token = joined.token;
    this.participantId = joined.participantId;
    this.task = joined.task;
    // The server may say how often it wants heartbeats (an extension of the port's JoinResult).
    const hinted = (joined as { heartbeatIntervalMs?: unknown }).heartbeatIntervalMs;
    if (typeof hinted === 'number' && hinted > 0) this.serverHeartbeatMs = hinted;
    this.updateState(joined.state);
    this.subscribe();
  }

  private subscribe(): void {
    this.unsubscribe?.();
    this.subscriptionBroken = false;
    this.unsubscribe = this.api.watchRounds(
      this.options.taskId,
      this.token as string,
      (state) => this.updateState(state),
      () => {
        // Polling carries on meanwhile; the next reconnection resubscribes.
        this.subscriptionBroken = true;
        this.notifyState();
      },
    );
  }

  private async beat(): Promise<void> {
    if (!this.token || this.abort.signal.aborted) return;
    try {
      this.updateState(await this.api.heartbeat(this.token));
    } catch {
      // The main loop notices lost connections on its next call and reconnects there.
    }
  }

  /**
   * Calls the server, retrying transient failures (network errors, 5xx, a restarting server) with
   * exponential back-off. After a failure it rejoins with the token before retrying, since the server
   * may have restarted. Refusals (4xx) are thrown at once.
   */
  private async call<T>(fn: () => Promise<T>, rejoin = true): Promise<T> {
    const signal = this.abort.signal;
    const started = Date.now();
    const giveUpAfter = this.options.backoff?.giveUpAfterMs ?? 10 * 60_000;
    for (let attempt = 0; ; attempt++) {
      throwIfStopped(signal);
      try {
        if (attempt > 0 && rejoin) await this.rejoin();
        return await fn();
      } catch (error) {
        if (error instanceof SessionStopped || signal.aborted) throw new SessionStopped();
        if (!isTransientError(error) || Date.now() - started > giveUpAfter) throw error;
        if (attempt === 0) this.emit({ type: 'log', level: 'warn', message: `connection to the server lost (${(error as Error).message}); retrying` });
        await sleep(backoffDelay(attempt, this.options.backoff), signal);
      }
    }
  }

  private async rejoin(): Promise<void> {
    const joined = await this.api.join(this.options.taskId, { token: this.token });
    this.token = joined.token;
    this.updateState(joined.state);
    this.subscribe();
    this.emit({ type: 'log', level: 'info', message: `reconnected (round ${joined.state.round}, model v${joined.state.modelVersion})` });
  }

  /** Resolves when the latest state satisfies `ready`, polling with heartbeats when the subscription is silent. */
  private async waitForState(ready: (state: RoundState) => boolean): Promise<void> {
    const signal = this.abort.signal;
    const poll = this.options.pollIntervalMs ?? 2_000;
    while (!ready(this.state as RoundState)) {
      const woke = await this.nextState(poll);
      throwIfStopped(signal);
      if (ready(this.state as RoundState)) return;
      if (!woke || this.subscriptionBroken) {
        this.updateState(await this.call(() => this.api.heartbeat(this.token as string)));
        if (this.subscriptionBroken) this.subscribe();
      }
    }
  }

  /** Resolves true at the next state change, false after `timeoutMs` without one; rejects when stopped. Leaves no timer or listener behind. */
  private nextState(timeoutMs: number): Promise<boolean> {
    const signal = this.abort.signal;
    return new Promise((resolve, reject) => {
      const finish = (changed: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(changed);
      };
      const onAbort = () => {
        clearTimeout(timer);
        reject(new SessionStopped());
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.stateWaiters.push(() => finish(true));
    });
  }

  /** Keeps the newest state: rounds and versions never go back, so a late message is ignored. */
  private updateState(state: RoundState): void {
    const current = this.state;
    if (current && (state.modelVersion < current.modelVersion || state.round < current.round)) return;
    this.state = state;
    if (state.participants !== this.lastParticipants) {
      this.lastParticipants = state.participants;
      this.emit({ type: 'participants', count: state.participants, round: state.round });
    }
    this.notifyState();
  }

  private notifyState(): void {
    wakeAll(this.stateWaiters);
  }

  private async cleanup(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.notifyState();
    if (this.token && (this.options.leaveWhenDone ?? true)) {
      try {
        await this.api.leave(this.token);
      } catch {
        // Leaving is a courtesy: the server drops silent participants anyway.
      }
    }
  }
}

/** The ε and δ spent, as round and done events carry them (nothing for a task without noise). */
function spent(privacy: PrivacySpentState | undefined): { epsilon?: number; delta?: number } {
  return privacy ? { epsilon: privacy.epsilon, delta: privacy.delta } : {};
}

/** The server's precise error code (e.g. `WRONG_ROUND`), when the error is one of the API's. */
export function errorCode(error: unknown): ApiErrorCode | undefined {
  return error instanceof DiscoApiError ? error.code : undefined;
}

/**
 * Whether an error from the {@link FederationApi} is worth retrying: the server could not be reached or
 * answered with a temporary failure. A refusal (wrong round, bad token, bad update) is not, and neither is
 * anything that is not a `DiscoApiError` (the ports convert every failure of theirs; anything else is a bug).
 */
export function isTransientError(error: unknown): boolean {
  return error instanceof DiscoApiError && error.transient;
}
