import type * as tf from '@tensorflow/tfjs';
import type { Task } from '../task/schema.js';
import { ModelError } from './errors.js';
import { taskFeatureShape } from '../data/feature-shape.js';
import { taskClasses } from './classes.js';

const show = (shape: readonly (number | null)[]) => `[${shape.map((d) => (d === null ? 'null' : d)).join(',')}]`;

/**
 * Checks that `model` (built, uploaded or loaded) reads the task's examples and predicts its classes.
 *
 * @throws ModelError naming the difference, e.g.
 *   `model input shape [null,10] does not match the task: expected [null,9]` or
 *   `model output shape [null,3] does not match the task: expected [null,2] (2 classes: died, survived)`.
 */
export function checkModelForTask(model: tf.LayersModel, task: Task): void {
  if (model.inputs.length !== 1) throw new ModelError(`model has ${model.inputs.length} inputs: the task expects 1`);
  if (model.outputs.length !== 1) throw new ModelError(`model has ${model.outputs.length} outputs: the task expects 1`);
  const input = model.inputs[0].shape;
  const expectedInput = [null, ...taskFeatureShape(task)];
  if (input.length !== expectedInput.length || input.some((d, i) => d !== expectedInput[i]))
    throw new ModelError(`model input shape ${show(input)} does not match the task: expected ${show(expectedInput)}`);
  const output = model.outputs[0].shape;
  const classes = taskClasses(task);
  if (output.length !== 2 || output[1] !== classes.length)
    throw new ModelError(
      `model output shape ${show(output)} does not match the task: expected [null,${classes.length}] (${classes.length} classes: ${classes.join(', ')})`,
    );
}
