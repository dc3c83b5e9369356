/**
 * The parts of a round that the federated and the decentralized clients share: turning a session into an
 * event stream, resolving the participant's data, one round of local epochs, and the metrics an update
 * carries in its header.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { compileModel } from '../model/index.js';
import type { Task } from '../task/schema.js';
import { withPerplexities, type ClientMetrics } from '../aggregation/metrics.js';
import type { EvaluationReport } from '../evaluation/metrics.js';
import type { EpochMetrics, FinalMetrics, TrainingEvent } from '../training/events.js';
import type { Trainer } from '../training/index.js';
import { EventChannel } from '../util/event-channel.js';
import { holdOut } from './local.js';
import { SessionStopped, throwIfStopped } from './session.js';

/** What every collaborative participant is given: the port, the task, its data and how long to train. */
export interface ParticipantOptions<Api> {
  /** The server, through its port (`createFederationApi(url)` or `createSignallingApi(url)` from `@disco/client`). */
  api: Api;
  taskId: string;
  /**
   * This participant's labelled data (it never leaves the device), or a function that loads it once the
   * server has said what the task is (e.g. to check a CSV against the server's task).
   */
  dataset: Dataset | ((task: Task) => Dataset | Promise<Dataset>);
  /** A token kept from an earlier session, to rejoin as the same participant. */
  token?: string;
  /** Stop after this many rounds (federated: once the global model reaches this version); default: the task's `training.rounds`. */
  rounds?: number;
  /**
   * Held-out data for the validation metrics, or the fraction of `dataset` to hold out (default: the
   * task's `training.validationSplit`, split with the task's seed).
   */
  validation?: Dataset | number;
  /** A model to train instead of the task's built-in architecture (it must match the task's weights). */
  model?: tf.LayersModel;
  /** Heartbeat period (default: what the server asks for on join, else 5 s). */
  heartbeatIntervalMs?: number;
  /** While waiting for the next round, ask the server again this often in case the subscription is silent (default 2 s). */
  pollIntervalMs?: number;
  /** Leave the task when the session ends (default true). */
  leaveWhenDone?: boolean;
  /** Stops the session, like the client's `stop()`. */
  signal?: AbortSignal;
  /** Called with every event, before the stream yields it. */
  onEvent?: (event: TrainingEvent) => void;
}

/** What {@link streamSession} needs from a client. */
export interface SessionHooks<R> {
  /** Starts the session's work; every event goes through `emit` (keep it to emit from callbacks). */
  start: (emit: (event: TrainingEvent) => void) => Promise<R>;
  /** Called with every event, before the stream yields it. */
  onEvent?: (event: TrainingEvent) => void;
  /** Whether the session was stopped (a failure then ends the stream with `stopped`, not an error). */
  stopped: () => boolean;
  /** The `done` event of a stopped session. */
  stoppedEvent: () => TrainingEvent;
  /** Stops the session (when the consumer leaves the stream early). */
  stop: () => void;
  /** Releases what the session holds, once its work has ended. */
  cleanup: () => Promise<void>;
}

/**
 * Runs a client's session as one async stream of events, returning the session's result (undefined when
 * it was stopped). Breaking out of the loop early stops the session and cleans up.
 */
export async function* streamSession<R>(hooks: SessionHooks<R>): AsyncGenerator<TrainingEvent, R | undefined> {
  const channel = new EventChannel<TrainingEvent>();
  const emit = (event: TrainingEvent) => {
    hooks.onEvent?.(event);
    channel.push(event);
  };
  let result: R | undefined;
  const work = hooks.start(emit).then(
    (r) => {
      result = r;
      channel.end();
    },
    (error: unknown) => {
      if (error instanceof SessionStopped || hooks.stopped()) {
        emit(hooks.stoppedEvent());
        channel.end();
      } else channel.fail(error);
    },
  );
  try {
    yield* channel;
  } finally {
    // Also reached when the consumer breaks out of the loop early: stop and clean up.
    if (!result) hooks.stop();
    await work;
    await hooks.cleanup();
  }
  return result;
}

/**
 * The participant's training and held-out data: `dataset` (loaded for `task` when it is a function),
 * minus the held-out part (`validation`, default the task's `validationSplit`, split with the task's seed).
 */
export async function participantData(
  dataset: Dataset | ((task: Task) => Dataset | Promise<Dataset>),
  validation: Dataset | number | undefined,
  task: Task,
): Promise<{ train: Dataset; validation?: Dataset }> {
  const data = typeof dataset === 'function' ? await dataset(task) : dataset;
  return holdOut(data, validation ?? task.training.validationSplit, task.training.seed);
}

/** What one round of local training needs. */
export interface LocalRoundOptions {
  trainer: Trainer;
  train: Dataset;
  validation: Dataset | undefined;
  round: number;
  task: Task;
  signal: AbortSignal;
  /** Receives the trainer's `batch` and `epoch` events (its `done` closes a round, not the session). */
  emit: (event: TrainingEvent) => void;
}

/**
 * One round of local training: the task's `epochsPerRound` from the model's current weights, with a
 * fresh optimizer. Returns the last epoch's metrics; throws {@link SessionStopped} when `signal` aborts.
 */
export async function trainLocalRound(model: tf.LayersModel, options: LocalRoundOptions): Promise<EpochMetrics> {
  const { trainer, train, validation, round, task, signal, emit } = options;
  freshOptimizer(model, task);
  let metrics: EpochMetrics = { loss: NaN };
  for await (const event of trainer.train(train, { epochs: task.training.epochsPerRound, validation, round, signal })) {
    // The trainer's own `done` closes a round, not the session.
    if (event.type === 'done') continue;
    if (event.type === 'epoch') {
      const { loss, accuracy, valLoss, valAccuracy, perplexity, valPerplexity } = event;
      // Language models' perplexities ride along, for the round event (`metrics.valPerplexity`).
      metrics = { loss, accuracy, valLoss, valAccuracy, ...(perplexity !== undefined && { perplexity }), ...(valPerplexity !== undefined && { valPerplexity }) };
    }
    emit(event);
  }
  throwIfStopped(signal);
  return metrics;
}

/**
 * Gives the model a new optimizer of the task's kind, disposing the old one and its state: each round's
 * local training starts from the global weights with no momentum left from this client's previous round,
 * which would otherwise pull the update towards the client's own data (it matters with non-IID data).
 */
function freshOptimizer(model: tf.LayersModel, task: Task): void {
  const previous = model.optimizer as tf.Optimizer | undefined;
  compileModel(model, task.training);
  previous?.dispose();
}

/** The finite ones of `metrics`, as numbers for an update's header (see `aggregation/metrics.ts`). */
export { finiteMetrics } from '../aggregation/metrics.js';

/**
 * A round's aggregated metrics (the server's sample-weighted means) for a round event; a text task's with
 * the perplexities of the aggregated losses (`valPerplexity` = exp(mean valLoss)), not means of perplexities.
 */
export function aggregatedMetrics(metrics: ClientMetrics, task: Task): EpochMetrics {
  const aggregated = { ...metrics, loss: metrics.loss ?? NaN };
  return task.dataType === 'text' ? withPerplexities(aggregated) : aggregated;
}

/** A session's closing figures from the final model's evaluation: accuracy and loss, and a language model's perplexity. */
export function finalMetrics(report: Pick<EvaluationReport, 'accuracy' | 'loss' | 'perplexity'>): FinalMetrics {
  return { accuracy: report.accuracy, loss: report.loss, ...(report.perplexity !== undefined && { perplexity: report.perplexity }) };
}

/** Wakes every waiter in `waiters` and empties the list. */
export function wakeAll(waiters: (() => void)[]): void {
  for (const wake of waiters.splice(0)) wake();
}
