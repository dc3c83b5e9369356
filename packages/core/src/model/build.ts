import * as tf from '@tensorflow/tfjs';
import type { BuiltinArchitecture, Task, TrainingSettings } from '../task/schema.js';
import { ModelError } from './errors.js';
import { taskFeatureShape } from '../data/feature-shape.js';
import { taskClasses } from './classes.js';
import { createGptModel, findGptLayer } from './gpt/layer.js';
import { languageModelLoss } from './gpt/loss.js';
import { GPT2_VOCABULARY, GPT_SIZES } from './gpt/sizes.js';

/** Hidden layer sizes of the MLPs when the task does not set `model.hiddenUnits`. */
export const DEFAULT_HIDDEN_UNITS: Readonly<Record<'tabular-mlp' | 'image-mlp', readonly number[]>> = {
  'tabular-mlp': [32, 16],
  'image-mlp': [128],
};

/**
 * Seeds the initialiser of each layer differently but reproducibly: the same task seed gives every
 * participant and the server the same version-0 weights.
 */
class Seeds {
  private layers = 0;
  constructor(private readonly seed: number) {}
  /** He-normal for ReLU layers, Glorot-uniform (Keras' default) otherwise; seeded from the task seed and the layer's rank. */
  kernel(activation: 'relu' | 'softmax'): ReturnType<typeof tf.initializers.glorotUniform> {
    this.layers += 1;
    const seed = (this.seed ^ Math.imul(this.layers, 0x9e3779b1)) >>> 0;
    return activation === 'relu' ? tf.initializers.heNormal({ seed }) : tf.initializers.glorotUniform({ seed });
  }
}

function dense(seeds: Seeds, name: string, units: number, activation: 'relu' | 'softmax'): tf.layers.Layer {
  return tf.layers.dense({ name, units, activation, kernelInitializer: seeds.kernel(activation), biasInitializer: 'zeros' });
}

function conv(seeds: Seeds, name: string, filters: number, padding: 'valid' | 'same'): tf.layers.Layer {
  return tf.layers.conv2d({ name, filters, kernelSize: 3, padding, activation: 'relu', kernelInitializer: seeds.kernel('relu'), biasInitializer: 'zeros' });
}

const pool = (name: string) => tf.layers.maxPooling2d({ name, poolSize: 2, strides: 2 });

/** The hidden layers of each built-in architecture (the input and the softmax output are added around them). */
const ARCHITECTURES: Record<Exclude<BuiltinArchitecture, 'gpt'>, (seeds: Seeds, hiddenUnits: readonly number[] | undefined) => tf.layers.Layer[]> = {
  'tabular-mlp': (seeds, hidden = DEFAULT_HIDDEN_UNITS['tabular-mlp']) => hidden.map((units, i) => dense(seeds, `hidden_${i + 1}`, units, 'relu')),
  'image-mlp': (seeds, hidden = DEFAULT_HIDDEN_UNITS['image-mlp']) => [
    tf.layers.flatten({ name: 'flatten' }),
    ...hidden.map((units, i) => dense(seeds, `hidden_${i + 1}`, units, 'relu')),
  ],
  // Small enough to train to ≥ 0.95 on 6,000 MNIST digits in a couple of epochs on wasm.
  'mnist-cnn': (seeds) => [
    conv(seeds, 'conv_1', 16, 'valid'),
    pool('pool_1'),
    conv(seeds, 'conv_2', 32, 'valid'),
    pool('pool_2'),
    tf.layers.flatten({ name: 'flatten' }),
    dense(seeds, 'hidden_1', 64, 'relu'),
  ],
  'cifar10-cnn': (seeds) => [
    conv(seeds, 'conv_1', 32, 'same'),
    pool('pool_1'),
    conv(seeds, 'conv_2', 64, 'same'),
    pool('pool_2'),
    conv(seeds, 'conv_3', 64, 'same'),
    pool('pool_3'),
    tf.layers.flatten({ name: 'flatten' }),
    dense(seeds, 'hidden_1', 64, 'relu'),
  ],
};

/**
 * Builds the task's built-in model, compiled for the task ({@link compileForTask}): input shape from the
 * task's encoding, one softmax output per label, weights initialised from `task.training.seed`, so every
 * participant and the server build the same version-0 model.
 *
 * @throws ModelError for a task whose model is uploaded (`source: 'tfjs'`) rather than built in.
 * @example
 * ```ts
 * const model = buildModel(getBuiltinTask('titanic'));
 * ```
 */
export function buildModel(task: Task): tf.LayersModel {
  if (task.model.source !== 'builtin')
    throw new ModelError(`task "${task.id}" brings its own TF.js model; load it instead of building one`);
  const { architecture, hiddenUnits } = task.model;
  if (architecture === 'gpt') {
    const model = buildGptModel(task);
    compileForTask(model, task);
    return model;
  }
  const seeds = new Seeds(task.training.seed);
  const classes = taskClasses(task);
  const model = tf.sequential({
    name: architecture,
    layers: [
      tf.layers.inputLayer({ name: 'input', inputShape: taskFeatureShape(task) }),
      ...ARCHITECTURES[architecture](seeds, hiddenUnits),
      dense(seeds, 'output', classes.length, 'softmax'),
    ],
  });
  compileForTask(model, task);
  return model;
}

/** Context length of a text task (`task.text.contextLength`, default 128). */
export function taskContextLength(task: Task): number {
  return task.text?.contextLength ?? 128;
}

/** The `gpt` architecture: size and dropout from `task.model.gpt`, context from `task.text`, seed from the training settings. */
function buildGptModel(task: Task): tf.LayersModel {
  if (task.model.source !== 'builtin') throw new ModelError(`task "${task.id}" brings its own TF.js model`);
  const { size = 'nano', dropout = 0 } = task.model.gpt ?? {};
  return createGptModel({
    ...GPT_SIZES[size],
    contextLength: taskContextLength(task),
    vocabulary: GPT2_VOCABULARY,
    dropout,
    seed: task.training.seed,
  });
}

/** A fresh optimizer of the settings' kind (`adam`, `sgd`, `rmsprop`) and learning rate. */
export function createOptimizer(settings: Pick<TrainingSettings, 'optimizer' | 'learningRate'>): tf.Optimizer {
  const { optimizer, learningRate } = settings;
  if (optimizer === 'sgd') return tf.train.sgd(learningRate);
  if (optimizer === 'rmsprop') return tf.train.rmsprop(learningRate);
  return tf.train.adam(learningRate);
}

/**
 * Compiles `model` with the settings' optimizer and learning rate and the loss its kind needs: for a
 * classifier, sparse categorical crossentropy (labels are class indices) and accuracy; for a GPT (a model
 * holding a `GptLayer`, built or loaded), {@link languageModelLoss} alone, with next-token labels `[batch, T]`:
 * a language model reports loss and perplexity while training, and its next-token accuracy only when
 * evaluated (`evaluateLanguageModel`), because an arg-max over every batch's logits costs ~10 % of a step.
 */
export function compileModel(model: tf.LayersModel, settings: Pick<TrainingSettings, 'optimizer' | 'learningRate'>): void {
  if (!findGptLayer(model)) {
    model.compile({ optimizer: createOptimizer(settings), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    return;
  }
  model.compile({ optimizer: createOptimizer(settings), loss: languageModelLoss });
  // fit/evaluate check targets against the output's shape ([T, vocabulary]); ours are token ids [T], which
  // only the loss reads. A null shape is how TF.js skips that check for an output.
  (model as unknown as { feedOutputShapes: (tf.Shape | null)[] }).feedOutputShapes = model.outputs.map(() => null);
}

/** Compiles `model` for the task ({@link compileModel} with `task.training`). Call it on a loaded model before training it. */
export function compileForTask(model: tf.LayersModel, task: Task): void {
  compileModel(model, task.training);
}
