export { evaluateModel } from './evaluate.js';
export { evaluateLanguageModel, type LanguageModelEvaluationOptions, type LanguageModelReport } from './language-model.js';
export { argMax, evaluatePredictions, type ClassMetrics, type EvaluationReport, type Misclassified } from './metrics.js';
export { predict, predictionsToCsv, predictProbabilities, type PredictionRow } from './predict.js';
export { womenSurviveAccuracy } from './baselines.js';
