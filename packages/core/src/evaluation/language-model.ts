import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';

/** How well a language model predicts the next token of text it is given. */
export interface LanguageModelReport {
  /** Windows evaluated. */
  count: number;
  /** Tokens predicted: the windows' targets that are not padding. */
  tokens: number;
  /** Mean cross-entropy per predicted token, in nats: Σ −log p(target) / tokens. */
  loss: number;
  /** exp(loss): among how many equally likely tokens the model hesitates, on average. */
  perplexity: number;
  /** Share of predicted tokens that are the model's most likely next token. */
  accuracy: number;
}

/** Options of {@link evaluateLanguageModel}. */
export interface LanguageModelEvaluationOptions {
  /**
   * Windows per forward pass (default 8). The logits of one pass take batch × contextLength × vocabulary
   * floats: 103 MB for 8 × 64 tokens of GPT-2's vocabulary.
   */
  batchSize?: number;
}

/**
 * Evaluates a language model on text windows (a {@link Dataset} with a `labelShape`, e.g. from `textDataset`):
 * the exact mean cross-entropy per predicted token over the whole data set (the sum over every batch divided
 * by the number of tokens that are not padding, not a mean of batch means), its perplexity and the next-token
 * accuracy. The model maps token ids `[batch, T]` to logits `[batch, T, vocabulary]` (the `gpt` architecture).
 * Batch by batch; no tensor outlives the call.
 *
 * @throws Error when the data set is not text windows with labels.
 *
 * @example
 * const report = evaluateLanguageModel(model, await loadBuiltinDataset('shakespeare', { split: 'test' }));
 * console.log(report.loss, report.perplexity); // 10.82, 50,000 for an untrained model
 */
export function evaluateLanguageModel(model: tf.LayersModel, dataset: Dataset, options: LanguageModelEvaluationOptions = {}): LanguageModelReport {
  const { labels, labelShape } = dataset;
  if (!labels) throw new Error('evaluation needs labelled data: the data set has no labels');
  if (!labelShape) throw new Error('a language model is evaluated on text windows (a data set with a labelShape, e.g. from textDataset)');
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const size = dataset.featureShape.reduce((a, b) => a * b, 1);
  const perExample = labelShape.reduce((a, b) => a * b, 1);
  let crossEntropy = 0;
  let tokens = 0;
  let correct = 0;
  for (let start = 0; start < dataset.count; start += batchSize) {
    const n = Math.min(batchSize, dataset.count - start);
    const [sum, count, hits] = tf.tidy(() => {
      const x = tf.tensor(dataset.features.subarray(start * size, (start + n) * size), [n, ...dataset.featureShape], 'float32');
      const logits = model.predict(x) as tf.Tensor;
      const vocabulary = logits.shape[logits.rank - 1];
      const flat = tf.reshape<tf.Rank.R2>(logits, [-1, vocabulary]);
      const y = tf.tensor1d(labels.subarray(start * perExample, (start + n) * perExample), 'int32');
      if (flat.shape[0] !== y.shape[0]) throw new Error(`the model predicts ${flat.shape[0] / n} tokens per window, the data has ${perExample}`);
      const mask = tf.greaterEqual(y, tf.scalar(0, 'int32'));
      const safe = tf.maximum(y, tf.scalar(0, 'int32'));
      // −log softmax(logits)[target] = logsumexp(logits) − logits[target], the target logit gathered from the flat logits.
      const target = tf.gather(tf.reshape(flat, [-1]), tf.add(tf.mul(tf.range(0, flat.shape[0], 1, 'int32'), tf.scalar(vocabulary, 'int32')), safe));
      const nll = tf.sub(tf.logSumExp(flat, 1), target);
      const maskFloat = tf.cast(mask, 'float32');
      const right = tf.cast(tf.logicalAnd(mask, tf.equal(tf.argMax(flat, 1), safe)), 'float32');
      return tf.stack([tf.sum(tf.mul(nll, maskFloat)), tf.sum(maskFloat), tf.sum(right)]).dataSync();
    });
    // Summed in float64 here, batch by batch: the mean does not drift over long texts.
    crossEntropy += sum;
    tokens += count;
    correct += hits;
  }
  const loss = tokens === 0 ? 0 : crossEntropy / tokens;
  return { count: dataset.count, tokens, loss, perplexity: Math.exp(loss), accuracy: tokens === 0 ? 0 : correct / tokens };
}
