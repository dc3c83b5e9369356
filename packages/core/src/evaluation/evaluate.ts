import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { evaluateLanguageModel } from './language-model.js';
import { evaluatePredictions, type EvaluationReport } from './metrics.js';
import { predictProbabilities } from './predict.js';

/**
 * Evaluates a model on labelled data: accuracy, loss, per-class precision/recall/F1, the confusion matrix
 * and the misclassified examples. On text windows (a data set with a `labelShape`), the language model's
 * figures ({@link evaluateLanguageModel}): `loss` the mean cross-entropy per predicted token, `accuracy`
 * the next-token accuracy, `perplexity` and `tokens`, with no classes (empty `perClass`, `confusion` and
 * `misclassified`).
 *
 * @throws Error when the data set has no labels.
 */
export function evaluateModel(model: tf.LayersModel, dataset: Dataset): EvaluationReport {
  if (!dataset.labels) throw new Error('evaluation needs labelled data: the data set has no labels');
  if (dataset.labelShape) {
    const { count, tokens, loss, perplexity, accuracy } = evaluateLanguageModel(model, dataset);
    return { count, accuracy, loss, perplexity, tokens, perClass: [], confusion: [], misclassified: [] };
  }
  return evaluatePredictions(predictProbabilities(model, dataset), dataset.labels, dataset.classes, dataset.sources);
}
