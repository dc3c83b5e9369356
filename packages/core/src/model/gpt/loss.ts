import * as tf from '@tensorflow/tfjs';

/** Label of a position that predicts nothing (padding after the end of a text). */
export const PADDING_LABEL = -1;

/**
 * Picks `values[indices[i]]` from a flat tensor; the gradient is a scatter (`scatterND`), which
 * tfjs-backend-wasm has, where `gather`'s own gradient needs `UnsortedSegmentSum`, which it lacks.
 */
function pick(values: tf.Tensor1D, indices: tf.Tensor1D): tf.Tensor1D {
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = args[0] as tf.Tensor;
    // Kept by the tape for the backward pass (the caller's tensor is gone by then).
    (args[1] as tf.GradSaveFunc)([indices]);
    return {
    value: tf.gather(v, indices),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.scatterND(tf.expandDims(saved[0], 1), dy as tf.Tensor, v.shape),
    };
  });
  return lookup(values) as tf.Tensor1D;
}

/**
 * The language model's loss: the mean cross-entropy, in nats, over every predicted token, positions
 * labelled {@link PADDING_LABEL} (−1) excluded. Its exponential is the perplexity. (Not halved: the
 * reference implementation's loss is half of this by mistake.)
 *
 * The target logits are gathered from the `[tokens, vocabulary]` logits (no one-hot of the labels, which
 * would be as large as the logits themselves: 206 MB for 8 × 128 tokens of GPT-2's vocabulary).
 *
 * @param yTrue next-token ids `[batch, T]` (float32 or int32; −1 for padding).
 * @param yPred logits `[batch, T, vocabulary]`.
 * @returns a scalar (0 when every position is padding).
 */
export function languageModelLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const vocabulary = yPred.shape[yPred.rank - 1];
    const logits = tf.reshape<tf.Rank.R2>(yPred, [-1, vocabulary]);
    const count = logits.shape[0];
    const labels = tf.cast(tf.reshape(yTrue, [-1]), 'int32');
    const mask = tf.cast(tf.greaterEqual(labels, 0), 'float32');
    const flatIndex = tf.add<tf.Tensor1D>(tf.mul(tf.range(0, count, 1, 'int32'), tf.scalar(vocabulary, 'int32')), tf.maximum(labels, tf.scalar(0, 'int32')));
    const target = pick(tf.reshape(logits, [-1]), flatIndex);
    const negativeLogLikelihood = tf.sub(tf.logSumExp(logits, 1), target);
    return tf.div<tf.Scalar>(tf.sum(tf.mul(negativeLogLikelihood, mask)), tf.maximum(tf.sum(mask), 1));
  });
}

/**
 * Next-token accuracy: the share of predicted positions (padding excluded) whose most likely token is the
 * label. Its `name` is `acc`, so training logs carry it under `acc` / `val_acc` like the classifiers'.
 */
export const languageModelAccuracy = Object.defineProperty(
  (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const labels = tf.cast(tf.reshape(yTrue, [-1]), 'int32');
      const predicted = tf.reshape(tf.argMax(yPred, -1), [-1]);
      const mask = tf.greaterEqual(labels, 0);
      const correct = tf.sum(tf.cast(tf.logicalAnd(mask, tf.equal(predicted, labels)), 'float32'));
      return tf.div<tf.Scalar>(correct, tf.maximum(tf.sum(tf.cast(mask, 'float32')), 1));
    }),
  'name',
  { value: 'acc' },
);
