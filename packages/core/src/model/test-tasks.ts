import type { Dataset } from '../data/dataset.js';
import { taskFeatureShape } from '../data/feature-shape.js';
import { parseTask, type Task, type TaskInput } from '../task/schema.js';

/**
 * Small literal tasks for the model, training and evaluation tests (not the built-in tasks, whose
 * definitions belong to the task module): 3 numeric columns plus a one-hot column of 3 categories.
 */
export function tabularTask(overrides: Partial<TaskInput> = {}): Task {
  return parseTask({
    id: 'toy-table',
    title: 'Toy table',
    description: 'A literal task for tests.',
    dataType: 'tabular',
    tabular: { inputColumns: ['a', 'b', 'c', 'colour'], outputColumn: 'y', labels: ['no', 'yes'] },
    preprocessing: [{ type: 'one-hot', column: 'colour', categories: ['red', 'green', 'blue'] }],
    model: { source: 'builtin', architecture: 'tabular-mlp' },
    ...overrides,
  });
}

/** A 28×28 grey-scale digit task with the built-in CNN. */
export function imageTask(overrides: Partial<TaskInput> = {}): Task {
  return parseTask({
    id: 'toy-digits',
    title: 'Toy digits',
    description: 'A literal task for tests.',
    dataType: 'image',
    image: { width: 28, height: 28, channels: 1, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
    model: { source: 'builtin', architecture: 'mnist-cnn' },
    ...overrides,
  });
}

/** A text task with the `gpt` architecture (nano unless `model.gpt` says otherwise) and a short context. */
export function textTask(overrides: Partial<TaskInput> = {}, contextLength = 8): Task {
  return parseTask({
    id: 'toy-text',
    title: 'Toy text',
    description: 'A literal task for tests.',
    dataType: 'text',
    text: { tokenizer: 'gpt2', contextLength },
    model: { source: 'builtin', architecture: 'gpt' },
    ...overrides,
  });
}

/**
 * `count` random examples of `task`'s (flat) feature shape, reproducible from `seed`; the class (`'0'` or
 * `'1'`) is whether the first two features sum above 0.
 */
export function syntheticDataset(task: Task, count: number, seed: number): Dataset {
  const [width] = taskFeatureShape(task);
  let s = seed;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const features = Float32Array.from({ length: count * width }, random);
  const labels = Int32Array.from({ length: count }, (_, i) => (features[i * width] + features[i * width + 1] > 0 ? 1 : 0));
  return { features, featureShape: [width], labels, classes: ['0', '1'], count };
}
