import * as tf from '@tensorflow/tfjs';
import { EventChannel } from '../client/session.js';
import type { Dataset } from '../data/dataset.js';
import { seededPermutation } from '../data/random.js';
import { compileModel } from '../model/build.js';
import { ModelError } from '../model/errors.js';
import { trainingSettings, type TrainingSettings } from '../task/schema.js';
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
}

/** Longest stretch of training without letting the event loop run (a frame is 16 ms). */
const YIELD_EVERY_MS = 10;

/**
 * Trains a compiled TF.js LayersModel on a {@link Dataset} and reports progress as a stream of
 * {@link TrainingEvent}s (`batch`, `epoch`, then `done`).
 *
 * It is `model.fit` underneath, one call per epoch on the data shuffled with a seeded permutation (the same
 * order on every run and machine for the same seed, round and epoch), with callbacks that feed the event
 * stream and give the event loop a turn between batches. The data becomes tensors once per call; every
 * tensor it creates is disposed when the stream ends, however it ends.
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
   * data, `valLoss` and `valAccuracy`; last, one `done` event with the last epoch's metrics, `epochs`
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

    const train = toTensors(data);
    const validation = options.validation && toTensors(options.validation);
    const batches = Math.ceil(data.count / this.settings.batchSize);
    let fitting: Promise<void> | undefined;
    try {
      let last: EpochMetrics | undefined;
      let completed = 0;
      for (let epoch = 1; epoch <= epochs && !this.stopRequested; epoch++) {
        // Batch events flow through a channel while fit runs; epoch and done events are yielded here, so
        // the next epoch starts only once the consumer has taken this one (and may have called stop()).
        const batchChannel = new EventChannel<TrainingEvent>();
        let metrics: EpochMetrics | undefined;
        fitting = this.fitEpoch(train, validation, mixSeed(this.settings.seed, shuffleSeed, epoch), {
          onBatch: batchEvents ? (batch, logs) => batchChannel.push({ type: 'batch', epoch, batch, batches, ...roundTag, ...logs }) : undefined,
          onEpoch: (logs) => (metrics = logs),
        }).then(
          () => batchChannel.end(),
          (error: unknown) => batchChannel.fail(error),
        );
        yield* batchChannel;
        await fitting;
        fitting = undefined;
        // An interrupted epoch's averages cover only some batches and no validation: it is not reported.
        if (!metrics || this.stopRequested) break;
        last = metrics;
        completed = epoch;
        yield { type: 'epoch', epoch, epochs, ...roundTag, ...(metrics as EpochMetrics) };
      }
      yield { type: 'done', ...roundTag, ...(last ?? {}), epochs: completed, stopped: completed < epochs };
    } finally {
      if (fitting) {
        this.model.stopTraining = true; // the consumer left during an epoch
        await fitting;
      }
      tf.dispose([train.x, train.y, ...(validation ? [validation.x, validation.y] : [])]);
      signal?.removeEventListener('abort', onAbort);
      this.running = false;
      this.model.stopTraining = false;
    }
  }

  /** One `model.fit` epoch on the data in a seeded order. */
  private async fitEpoch(train: Tensors, validation: Tensors | undefined, seed: number, hooks: ProgressHooks): Promise<void> {
    const order = seededPermutation(train.x.shape[0], seed);
    const [x, y] = tf.tidy(() => {
      const indices = tf.tensor1d(order, 'int32');
      return [tf.gather(train.x, indices), tf.gather(train.y, indices)];
    });
    try {
      await this.model.fit(x, y, {
        epochs: 1,
        batchSize: this.settings.batchSize,
        shuffle: false, // shuffled above, with a seed
        validationData: validation ? [validation.x, validation.y] : undefined,
        verbose: 0,
        callbacks: new ProgressCallback(hooks, () => this.stopRequested),
      });
    } finally {
      tf.dispose([x, y]);
    }
  }

  private checkData(data: Dataset, what: string): void {
    if (!data.labels) throw new Error(`the ${what} data has no labels: training and validation need labelled examples`);
    if (data.count === 0) throw new Error(`the ${what} data has no examples`);
    const expected = this.model.inputs[0].shape.slice(1);
    if (expected.length !== data.featureShape.length || expected.some((d, i) => d !== null && d !== data.featureShape[i]))
      throw new ModelError(`the ${what} examples have shape [${data.featureShape.join(',')}] but the model reads [${expected.join(',')}]`);
  }
}

interface Tensors {
  x: tf.Tensor;
  y: tf.Tensor2D;
}

/** Features as one tensor of `[count, ...featureShape]`, labels as `[count, 1]` class indices. */
function toTensors(data: Dataset): Tensors {
  const labels = Float32Array.from(data.labels as Int32Array);
  return { x: tf.tensor(data.features, [data.count, ...data.featureShape], 'float32'), y: tf.tensor2d(labels, [data.count, 1]) };
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
  onBatch?: (batch: number, logs: Logs) => void;
  onEpoch: (logs: EpochMetrics) => void;
}

/**
 * The `model.fit` callback that reports to the trainer. A `tf.Callback`, so fit uses it as is: no wrapping
 * that reads every batch's logs, and no `setTimeout` yields (we yield ourselves, cheaper).
 */
class ProgressCallback extends tf.Callback {
  private lastYield = Date.now();

  constructor(
    private readonly hooks: ProgressHooks,
    private readonly interrupted: () => boolean,
  ) {
    super();
  }

  override async onBatchEnd(batch: number, logs?: FitLogs): Promise<void> {
    if (this.hooks.onBatch && logs) {
      const [loss, accuracy] = await Promise.all([scalar(logs.loss), scalar(logs.acc)]);
      this.hooks.onBatch(batch + 1, { loss: loss as number, ...(accuracy === undefined ? {} : { accuracy }) });
    }
    if (Date.now() - this.lastYield >= YIELD_EVERY_MS) {
      await yieldToEventLoop();
      this.lastYield = Date.now();
    }
  }

  override async onEpochEnd(_epoch: number, logs?: FitLogs): Promise<void> {
    if (!logs || this.interrupted()) return;
    const [loss, accuracy, valLoss, valAccuracy] = await Promise.all([scalar(logs.loss), scalar(logs.acc), scalar(logs.val_loss), scalar(logs.val_acc)]);
    this.hooks.onEpoch({
      loss: loss as number,
      ...(accuracy === undefined ? {} : { accuracy }),
      ...(valLoss === undefined ? {} : { valLoss }),
      ...(valAccuracy === undefined ? {} : { valAccuracy }),
    });
  }
}

/** A log entry as a number: fit passes scalars as numbers or as (not yet read) scalar tensors. */
async function scalar(value: unknown): Promise<number | undefined> {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  return ((await (value as tf.Scalar).data()) as Float32Array)[0];
}
