import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { seededPermutation } from '../data/random.js';
import { compileModel } from '../model/build.js';
import { ModelError } from '../model/errors.js';
import { trainingSettings, type TrainingSettings } from '../task/schema.js';
import { EventChannel } from '../util/event-channel.js';
import type { EpochMetrics, TrainingEvent } from './events.js';
import { yieldToEventLoop } from './yield.js';

/** Options of one {@link Trainer.train} call. */
export interface TrainOptions {
  /** Local epochs (default: the settings' `epochsPerRound`). */
  epochs?: number;
  /** Held-out data: each `epoch` event then carries `valLoss` and `valAccuracy`. */
  validation?: Dataset;
  /** The federated round these epochs belong to: copied into the events and mixed into the shuffle seed. */
  round?: number;
  /** Aborting stops the training after the current batch, like {@link Trainer.stop}. */
  signal?: AbortSignal;
  /** Also yield a `batch` event after every batch (default false: reading each batch's loss costs a sync). */
  batchEvents?: boolean;
  /**
   * Longest stretch of training, in milliseconds, without giving the event loop a turn (checked between
   * batches; default 10, under a 16 ms frame, so a page stays responsive). `Infinity` never yields.
   */
  yieldEveryMs?: number;
}

/**
 * Trains a compiled TF.js LayersModel on a {@link Dataset} and reports progress as a stream of
 * {@link TrainingEvent}s (`batch`, `epoch`, then `done`).
 *
 * It is one `model.fit` call underneath, on data that a callback reorders before each epoch with a seeded
 * permutation (the same order on every run and machine for the same seed, round and epoch); callbacks
 * feed the event stream and give the event loop a turn between batches. The data becomes tensors once per
 * call; every tensor it creates is disposed when the stream ends, however it ends.
 *
 * @example
 * ```ts
 * const trainer = new Trainer(buildModel(task), task.training);
 * for await (const event of trainer.train(train, { epochs: 5, validation: test }))
 *   if (event.type === 'epoch') console.log(event.epoch, event.loss, event.valAccuracy);
 * ```
 */
export class Trainer {
  readonly settings: TrainingSettings;
  private calls = 0;
  private running = false;
  private stopRequested = false;

  /**
   * @param model compiled, or compiled here with the settings' optimizer and learning rate.
   * @param settings the task's `training` settings; omitted fields take the task schema's defaults.
   */
  constructor(
    readonly model: tf.LayersModel,
    settings: Partial<TrainingSettings> = {},
  ) {
    this.settings = trainingSettings.parse(settings);
    if (!model.optimizer) compileModel(model, this.settings);
  }

  /** True while a {@link train} stream is running. */
  get training(): boolean {
    return this.running;
  }

  /** Stops the running training after its current batch; the stream then ends with `done` and `stopped: true`. */
  stop(): void {
    if (!this.running) return;
    this.stopRequested = true;
    this.model.stopTraining = true;
  }

  /**
   * Trains for `options.epochs` epochs on `data`. The stream yields, per epoch, the `batch` events (when
   * asked) then one `epoch` event with the epoch's mean training loss and accuracy and, with validation
   * data, `valLoss` and `valAccuracy` (for a language model, data with a `labelShape`, also `perplexity` =
   * exp(loss) and `valPerplexity` = exp(valLoss)); last, one `done` event with the last epoch's metrics, `epochs`
   * completed and `stopped` (fewer epochs than asked). Epochs and batches count from 1. The next epoch
   * starts only once the consumer has taken an `epoch` event. Breaking out of the loop stops the training.
   *
   * @throws Error when the data has no labels or examples of another shape than the model's input, or
   *   when this trainer is already training.
   */
  async *train(data: Dataset, options: TrainOptions = {}): AsyncGenerator<TrainingEvent, void, undefined> {
    if (this.running) throw new Error('this trainer is already training: wait for its stream to end, or stop() it');
    this.checkData(data, 'training');
    if (options.validation) this.checkData(options.validation, 'validation');
    const epochs = options.epochs ?? this.settings.epochsPerRound;
    const { round, signal, batchEvents = false } = options;
    const roundTag = round === undefined ? {} : { round };
    const shuffleSeed = round ?? this.calls;
    this.calls += 1;
    this.running = true;
    this.stopRequested = false;
    const onAbort = () => this.stop();
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) this.stop();

    const events = new EventChannel<TrainingEvent>();
    let resume: (() => void) | undefined;
    let last: EpochMetrics | undefined;
    let completed = 0;
    const batches = Math.ceil(data.count / this.settings.batchSize);
    // Text windows (a label per position): the loss is the mean cross-entropy per token, so exp(loss) is the perplexity.
    const languageModel = data.labelShape !== undefined;
    const train = toTensors(data);
    const validation = options.validation && toTensors(options.validation);
    // fit reads its data through these variables: each epoch, they are reassigned the data in the epoch's
    // seeded order. So one fit call trains every epoch (one per epoch costs a setup each), in our order.
    const x = tf.variable(train.x, false);
    const y = tf.variable(train.y, false);
    const callback = new ProgressCallback({
      yieldEveryMs: options.yieldEveryMs ?? 10,
      stopRequested: () => this.stopRequested,
      onEpochBegin: (epoch) => {
        const order = seededPermutation(data.count, mixSeed(this.settings.seed, shuffleSeed, epoch));
        tf.tidy(() => {
          const indices = tf.tensor1d(order, 'int32');
          x.assign(tf.gather(train.x, indices));
          y.assign(tf.gather(train.y, indices));
        });
      },
      onBatch: batchEvents ? (epoch, batch, logs) => events.push({ type: 'batch', epoch, batch, batches, ...roundTag, ...logs }) : undefined,
      onEpoch: async (epoch, logged) => {
        const metrics = languageModel ? withPerplexity(logged) : logged;
        last = metrics;
        completed = epoch;
        events.push({ type: 'epoch', epoch, epochs, ...roundTag, ...metrics });
        // The next epoch starts once the consumer has taken this event (and may have called stop()).
        await new Promise<void>((resolve) => (resume = resolve));
      },
    });
    const fitting = (async () => {
      if (!this.stopRequested)
        await this.model.fit(x, y, {
          epochs,
          batchSize: this.settings.batchSize,
          shuffle: false, // shuffled by the callback, with a seed
          validationData: validation ? [validation.x, validation.y] : undefined,
          verbose: 0,
          callbacks: callback,
        });
      // The last epoch's figures: on the validation data when there is some.
      const loss = last && (last.valLoss ?? last.loss);
      const metrics = last && {
        accuracy: last.valAccuracy ?? last.accuracy,
        loss,
        ...(languageModel && loss !== undefined && { perplexity: Math.exp(loss) }),
        trainAccuracy: last.accuracy,
        trainLoss: last.loss,
      };
      events.push({ type: 'done', metrics: metrics ?? {}, stats: { bytesSent: 0, bytesReceived: 0 }, epochs: completed, stopped: completed < epochs });
    })().then(
      () => events.end(),
      (error: unknown) => events.fail(error),
    );
    try {
      for await (const event of events) {
        yield event;
        if (event.type === 'epoch') resume?.();
      }
    } finally {
      this.stop(); // the consumer may have left early
      resume?.();
      await fitting;
      tf.dispose([x, y, train.x, train.y, ...(validation ? [validation.x, validation.y] : [])]);
      signal?.removeEventListener('abort', onAbort);
      this.running = false;
      this.model.stopTraining = false;
    }
  }

  private checkData(data: Dataset, what: string): void {
    if (!data.labels) throw new Error(`the ${what} data has no labels: training and validation need labelled examples`);
    if (data.count === 0) throw new Error(`the ${what} data has no examples`);
    const perExample = data.labelShape ? data.labelShape.reduce((a, b) => a * b, 1) : 1;
    if (data.labels.length !== data.count * perExample)
      throw new Error(`the ${what} data has ${data.labels.length} labels for ${data.count} examples of [${(data.labelShape ?? [1]).join(',')}] labels each`);
    const expected = this.model.inputs[0].shape.slice(1);
    if (expected.length !== data.featureShape.length || expected.some((d, i) => d !== null && d !== data.featureShape[i]))
      throw new ModelError(`the ${what} examples have shape [${data.featureShape.join(',')}] but the model reads [${expected.join(',')}]`);
  }
}

interface Tensors {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * Features as one tensor of `[count, ...featureShape]`; labels as `[count, 1]` class indices, or
 * `[count, ...labelShape]` (a text window's next-token ids, -1 for padding), as float32 like Keras's.
 */
function toTensors(data: Dataset): Tensors {
  const labels = Float32Array.from(data.labels as Int32Array);
  return { x: tf.tensor(data.features, [data.count, ...data.featureShape], 'float32'), y: tf.tensor(labels, [data.count, ...(data.labelShape ?? [1])], 'float32') };
}

/** A language model's epoch figures with their perplexities, exp(loss) and exp(valLoss). */
function withPerplexity(metrics: EpochMetrics): EpochMetrics {
  return {
    ...metrics,
    perplexity: Math.exp(metrics.loss),
    ...(metrics.valLoss !== undefined && { valPerplexity: Math.exp(metrics.valLoss) }),
  };
}

/** A 32-bit seed from the task seed, the round (or call) and the epoch. */
function mixSeed(seed: number, round: number, epoch: number): number {
  let h = seed >>> 0;
  for (const v of [round, epoch]) h = Math.imul(h ^ (v >>> 0), 0x9e3779b1) ^ (h >>> 15);
  return h >>> 0;
}

type Logs = { loss: number; accuracy?: number };
/** What fit hands its callbacks: numbers, or scalar tensors it has not read yet (`UnresolvedLogs`, not exported by TF.js). */
type FitLogs = Record<string, number | tf.Scalar>;

interface ProgressHooks {
  yieldEveryMs: number;
  stopRequested: () => boolean;
  /** Epochs and batches count from 1 here. */
  onEpochBegin: (epoch: number) => void;
  onBatch?: (epoch: number, batch: number, logs: Logs) => void;
  onEpoch: (epoch: number, metrics: EpochMetrics) => Promise<void>;
}

/**
 * The `model.fit` callback that drives and reports the training. A `tf.Callback`, so fit uses it as is: no
 * wrapping that reads every batch's logs, and no `setTimeout` yields (we yield ourselves, cheaper).
 */
class ProgressCallback extends tf.Callback {
  private lastYield = Date.now();
  private epoch = 0;

  constructor(private readonly hooks: ProgressHooks) {
    super();
  }

  /** fit resets `stopTraining` when it starts: a stop requested before then is applied here. */
  private applyStop(): void {
    if (this.hooks.stopRequested() && this.model) this.model.stopTraining = true;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- overrides TF.js's async callback method
  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch + 1;
    this.applyStop();
    this.hooks.onEpochBegin(this.epoch);
  }

  override async onBatchEnd(batch: number, logs?: FitLogs): Promise<void> {
    this.applyStop();
    if (this.hooks.onBatch && logs) {
      const [loss, accuracy] = await Promise.all([scalar(logs.loss), scalar(logs.acc)]);
      this.hooks.onBatch(this.epoch, batch + 1, { loss: loss as number, ...(accuracy === undefined ? {} : { accuracy }) });
    }
    if (Date.now() - this.lastYield >= this.hooks.yieldEveryMs) {
      await yieldToEventLoop();
      this.lastYield = Date.now();
    }
  }

  override async onEpochEnd(_epoch: number, logs?: FitLogs): Promise<void> {
    // An interrupted epoch's averages cover only some batches and no validation: it is not reported.
    if (!logs || this.hooks.stopRequested()) return;
    const [loss, accuracy, valLoss, valAccuracy] = await Promise.all([scalar(logs.loss), scalar(logs.acc), scalar(logs.val_loss), scalar(logs.val_acc)]);
    await this.hooks.onEpoch(this.epoch, {
      loss: loss as number,
      ...(accuracy === undefined ? {} : { accuracy }),
      ...(valLoss === undefined ? {} : { valLoss }),
      ...(valAccuracy === undefined ? {} : { valAccuracy }),
    });
    this.applyStop();
  }
}

/** A log entry as a number: fit passes scalars as numbers or as (not yet read) scalar tensors. */
async function scalar(value: unknown): Promise<number | undefined> {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  return ((await (value as tf.Scalar).data()) as Float32Array)[0];
}
