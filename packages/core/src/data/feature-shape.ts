import type { Task } from '../task/schema.js';
import { DataError } from './errors.js';
import { imageGeometry } from './pixels.js';
import { tabularFeatureNames } from './tabular.js';

/**
 * The shape of one example of a task once loaded, i.e. the model's input shape: `[width]` for a tabular
 * task (its feature vector, one-hot columns expanded), `[height, width, channels]` for an image task and
 * `[contextLength]` for a text task (a window of token ids).
 * Every `Dataset` loaded for the task has this `featureShape`.
 *
 * @example
 * taskFeatureShape(titanic) // [12]
 * taskFeatureShape(mnist)   // [28, 28, 1]
 * taskFeatureShape(shakespeare) // [64]
 */
export function taskFeatureShape(task: Task): number[] {
  if (task.dataType === 'tabular') return [tabularFeatureNames(task).length];
  if (task.dataType === 'image') {
    const { height, width, channels } = imageGeometry(task);
    return [height, width, channels];
  }
  if (task.dataType === 'text' && task.text) return [task.text.contextLength];
  throw new DataError({ code: 'unsupported-task', message: `task "${task.id}": ${task.dataType} tasks have no fixed feature shape` });
}
