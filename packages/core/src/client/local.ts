import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { splitDataset } from '../data/operations.js';
import { buildModel } from '../model/index.js';
import type { Task } from '../task/schema.js';
import type { TrainingEvent } from '../training/events.js';
import { Trainer } from '../training/index.js';

/** Options of a {@link LocalClient}. */
export interface LocalTrainingOptions {
  /** Epochs to train (default: the task's whole schedule, `epochsPerRound × rounds`, as much training as a federated run). */
  epochs?: number;
  /**
   * Held-out data for the validation metrics, or the fraction of `dataset` to hold out (default: the
   * task's `training.validationSplit`, split with the task's seed). 0 trains on everything.
   */
  validation?: Dataset | number;
  /** A model to train (default: the task's built-in architecture, {@link buildModel}). */
  model?: tf.LayersModel;
  /** Emit a `batch` event after every batch (default false). */
  batchEvents?: boolean;
  /** Stops the training, like {@link LocalClient.stop}. */
  signal?: AbortSignal;
}

/**
 * Training on one's own data only: the `local` scheme. The session is the {@link Trainer}'s event stream
 * (`batch`, `epoch`) closed by one `done` event whose `accuracy` and `loss` are the final validation
 * metrics (the training ones when nothing is held out), beside `trainAccuracy`, `trainLoss` and `epochs`.
 *
 * @example
 * ```ts
 * const client = new LocalClient(task, dataset, { epochs: 10 });
 * for await (const event of client.run()) console.log(event);
 * await saveModelToDir(client.model, './model');
 * ```
 */
export class LocalClient {
  /** The model being trained (after the session, the trained model). */
  readonly model: tf.LayersModel;
  private readonly abort = new AbortController();

  constructor(
    readonly task: Task,
    private readonly dataset: Dataset,
    private readonly options: LocalTrainingOptions = {},
  ) {
    this.model = options.model ?? buildModel(task);
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Stops after the current batch; the stream then ends with `done` (`stopped: true`). */
  stop(): void {
    this.abort.abort();
  }

  /** Trains; see the class description. */
  async *run(): AsyncGenerator<TrainingEvent> {
    const { task, options } = this;
    const { train, validation } = holdOut(this.dataset, options.validation ?? task.training.validationSplit, task.training.seed);
    const trainer = new Trainer(this.model, task.training);
    const epochs = options.epochs ?? task.training.epochsPerRound * task.training.rounds;
    for await (const event of trainer.train(train, { epochs, validation, signal: this.abort.signal, batchEvents: options.batchEvents })) {
      // The trainer's `done` closes the session, with what only the session knows.
      if (event.type === 'done') yield { ...event, examples: { train: train.count, validation: validation?.count ?? 0 } };
      else yield event;
    }
  }
}

/**
 * Trains `task`'s model locally on `dataset`: a shorthand for `new LocalClient(task, dataset, options).run()`.
 * Pass `options.model` to keep a handle on the trained model.
 */
export function trainLocally(task: Task, dataset: Dataset, options: LocalTrainingOptions = {}): AsyncGenerator<TrainingEvent> {
  return new LocalClient(task, dataset, options).run();
}

/**
 * Splits off the validation data: `validation` given as a data set is used as is; as a fraction, that share
 * of `dataset` is held out with `seed` (none when 0 or when too few examples would be left to train on).
 */
export function holdOut(dataset: Dataset, validation: Dataset | number, seed: number): { train: Dataset; validation?: Dataset } {
  if (typeof validation !== 'number') return { train: dataset, validation };
  if (validation <= 0 || Math.round(dataset.count * validation) < 1 || Math.round(dataset.count * validation) >= dataset.count) return { train: dataset };
  const { train, test } = splitDataset(dataset, validation, seed);
  return { train, validation: test };
}
