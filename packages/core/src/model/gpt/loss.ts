import * as tf from '@tensorflow/tfjs';

/** Label of a position that predicts nothing (padding after the end of a text). */
export const PADDING_LABEL = -1;

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
    // Each predicted position's share of the mean: 1 / (predicted positions), 0 for padding.
    const share = tf.div<tf.Tensor1D>(mask, tf.maximum(tf.sum(mask), 1));
    const flatIndex = tf.add<tf.Tensor1D>(tf.mul(tf.range(0, count, 1, 'int32'), tf.scalar(vocabulary, 'int32')), tf.maximum(labels, tf.scalar(0, 'int32')));
    return crossEntropy(logits, flatIndex, share);
  });
}

/**
 * Σᵢ shareᵢ · (logsumexp(logitsᵢ) − logitsᵢ[targetᵢ]) with a hand-written gradient, shareᵢ · (softmax(logitsᵢ) −
 * onehot(targetᵢ)): one tensor of the logits' size instead of the half-dozen that automatic differentiation
 * of logsumexp and a gather keeps (each 206 MB for 8 × 128 tokens of GPT-2's vocabulary; the wasm heap
 * never shrinks and stops at 4 GB). `tensorScatterUpdate` subtracts the one-hot in place of a dense one.
 */
function crossEntropy(logits: tf.Tensor2D, flatIndex: tf.Tensor1D, share: tf.Tensor1D): tf.Scalar {
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const logSumExp = tf.logSumExp(x, 1);
    // Kept by the tape for the backward pass (the caller's tensors are gone by then).
    (args[1] as tf.GradSaveFunc)([x, logSumExp, flatIndex, share]);
    const target = tf.gather(tf.reshape(x, [-1]), flatIndex);
    return {
      value: tf.sum(tf.mul(tf.sub(logSumExp, target), share)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [input, lse, indices, weights] = saved;
        const scale = tf.mul(weights, dy as tf.Tensor);
        // softmax · share, releasing each full-size temporary as soon as the next exists.
        const shifted = tf.sub(input, tf.expandDims(lse, 1));
        const probabilities = tf.exp(shifted);
        shifted.dispose();
        const scaled = tf.mul(probabilities, tf.expandDims(scale, 1));
        probabilities.dispose();
        const flat = tf.reshape(scaled, [-1]);
        const atTargets = tf.sub(tf.gather(flat, indices), scale);
        const gradient = tf.tensorScatterUpdate(flat, tf.expandDims(indices, 1), atTargets);
        tf.dispose([scale, scaled, atTargets]);
        return tf.reshape(gradient, input.shape);
      },
    };
  });
  return loss(logits) as tf.Scalar;
}
