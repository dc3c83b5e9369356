import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { evaluatePredictions, type EvaluationReport } from './metrics.js';
import { predictProbabilities } from './predict.js';

/**
 * Evaluates a model on labelled data: accuracy, loss, per-class precision/recall/F1, the confusion matrix
 * and the misclassified examples.
 *
 * @throws Error when the data set has no labels.
 */
export function evaluateModel(model: tf.LayersModel, dataset: Dataset): EvaluationReport {
  if (!dataset.labels) throw new Error('evaluation needs labelled data: the data set has no labels');
  return evaluatePredictions(predictProbabilities(model, dataset), dataset.labels, dataset.classes, dataset.sources);
}
