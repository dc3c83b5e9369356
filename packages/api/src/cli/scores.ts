import { evaluateLanguageModel, evaluateModel, type Dataset, type Task } from '@disco/core';
import type { SavedModel } from './model-dir.js';

/** How a simulation scores a global model on its test split (the fields of its round and done lines). */
export interface TestScores {
  /** Classifiers: the share of examples right; language models: the share of predicted tokens right. */
  testAccuracy: number;
  /** Mean cross-entropy (per example; per predicted token for a language model). */
  testLoss: number;
  /** Language models: exp(testLoss). */
  testPerplexity?: number;
}

/** Scores `model` on `test` the way `task` is measured: accuracy and loss, and for a text task perplexity. */
export function testScores(model: SavedModel, test: Dataset, task: Task): TestScores {
  if (task.dataType === 'text') {
    const report = evaluateLanguageModel(model, test);
    return { testAccuracy: report.accuracy, testLoss: report.loss, testPerplexity: report.perplexity };
  }
  const report = evaluateModel(model, test);
  return { testAccuracy: report.accuracy, testLoss: report.loss };
}
