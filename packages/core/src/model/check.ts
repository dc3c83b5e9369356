import type * as tf from '@tensorflow/tfjs';
import type { Task } from '../task/schema.js';
import { ModelError } from './errors.js';
import { taskFeatureShape } from '../data/feature-shape.js';
import { taskClasses } from './classes.js';
import { GPT2_VOCABULARY } from './gpt/sizes.js';

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
  if (task.dataType === 'text') return checkLanguageModel(model, task);
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

/** A text task's model reads `[null, contextLength]` token ids and scores every position over GPT-2's vocabulary. */
function checkLanguageModel(model: tf.LayersModel, task: Task): void {
  const contextLength = task.text?.contextLength ?? 128;
  const input = model.inputs[0].shape;
  if (input.length !== 2 || input[1] !== contextLength)
    throw new ModelError(`model input shape ${show(input)} does not match the task: expected [null,${contextLength}] (token ids)`);
  const output = model.outputs[0].shape;
  if (output.length !== 3 || output[1] !== contextLength || output[2] !== GPT2_VOCABULARY)
    throw new ModelError(
      `model output shape ${show(output)} does not match the task: expected [null,${contextLength},${GPT2_VOCABULARY}] (next-token logits)`,
    );
}
