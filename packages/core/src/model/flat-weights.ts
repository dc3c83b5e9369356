import * as tf from '@tensorflow/tfjs';
import { describeShapeMismatch, shapeSize, totalSize, type FlatWeights, type WeightShape } from '../weights/flat.js';
import { ModelError } from './errors.js';

/** The names and shapes of the model's weights, in `model.weights` order (the order of {@link getFlatWeights}). */
export function weightShapes(model: tf.LayersModel): WeightShape[] {
  // originalName: stable across models (`hidden_1/kernel`), where `name` gets a per-process suffix.
  return model.weights.map((w) => ({ name: w.originalName, shape: w.shape.map(Number) }));
}

/** Copies every weight of the model (trainable or not) into one flat array. */
export function getFlatWeights(model: tf.LayersModel): FlatWeights {
  const shapes = weightShapes(model);
  const values = new Float32Array(totalSize(shapes));
  let offset = 0;
  for (const tensor of model.getWeights()) {
    values.set(tensor.dataSync(), offset);
    offset += tensor.size;
  }
  return { values, shapes };
}

/**
 * Replaces the model's weights with `weights`.
 *
 * @throws ModelError when the shapes differ, e.g.
 *   `weights do not fit the model: weight 0 (hidden_1/kernel) has shape [9,16], expected [9,32]`.
 */
export function setFlatWeights(model: tf.LayersModel, weights: FlatWeights): void {
  const expected = weightShapes(model);
  const mismatch = describeShapeMismatch(expected, weights.shapes);
  if (mismatch) throw new ModelError(`weights do not fit the model: ${mismatch}`);
  const size = totalSize(expected);
  if (weights.values.length !== size)
    throw new ModelError(`weights do not fit the model: ${weights.values.length} values, expected ${size}`);
  tf.tidy(() => {
    let offset = 0;
    const tensors = expected.map(({ shape }) => {
      const n = shapeSize(shape);
      // A copy: the cpu backend would otherwise keep a view of the caller's array as the weights.
      const t = tf.tensor(weights.values.slice(offset, offset + n), shape, 'float32');
      offset += n;
      return t;
    });
    model.setWeights(tensors);
  });
}
