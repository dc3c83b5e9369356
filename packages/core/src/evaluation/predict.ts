import * as tf from '@tensorflow/tfjs';
import Papa from 'papaparse';
import type { Dataset } from '../data/dataset.js';
import { argMax } from './metrics.js';

/** Examples per `model.predict` call: bounds the memory of large data sets. */
const PREDICT_CHUNK = 512;

/**
 * The model's class probabilities for every example, `count × classes` values row-major, computed chunk by
 * chunk (no tensor outlives the call).
 */
export function predictProbabilities(model: tf.LayersModel, dataset: Dataset): Float32Array {
  if (dataset.labelShape) throw new Error('text windows have no class to predict: a language model generates text instead (generateTokens)');
  const size = dataset.featureShape.reduce((a, b) => a * b, 1);
  const classes = model.outputs[0].shape[1] as number;
  const out = new Float32Array(dataset.count * classes);
  for (let start = 0; start < dataset.count; start += PREDICT_CHUNK) {
    const n = Math.min(PREDICT_CHUNK, dataset.count - start);
    const chunk = tf.tidy(() => {
      const x = tf.tensor(dataset.features.subarray(start * size, (start + n) * size), [n, ...dataset.featureShape], 'float32');
      return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(chunk, start * classes);
  }
  return out;
}

/** One example's prediction. */
export interface PredictionRow {
  /** Where the example came from (the data set's `sources`), or `#N` (1-based position). */
  source: string;
  /** The predicted class. */
  label: string;
  /** The probability of the predicted class. */
  confidence: number;
  /** One probability per class, in the task's class order. */
  probabilities: number[];
}

/** Predicts the class of every example of `dataset` (labelled or not). */
export function predict(model: tf.LayersModel, dataset: Dataset): PredictionRow[] {
  const probabilities = predictProbabilities(model, dataset);
  const k = probabilities.length / Math.max(dataset.count, 1);
  return Array.from({ length: dataset.count }, (_, i) => {
    const row = Array.from(probabilities.subarray(i * k, (i + 1) * k));
    const best = argMax(row);
    return { source: dataset.sources?.[i] ?? `#${i + 1}`, label: dataset.classes[best] ?? String(best), confidence: row[best], probabilities: row };
  });
}

/** Probabilities in the CSV are rounded to this many decimals. */
const DECIMALS = 6;

/**
 * Predictions as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line
 * break): `source,label,confidence` then one `p(<class>)` column per class.
 */
export function predictionsToCsv(rows: readonly PredictionRow[], classes: readonly string[]): string {
  const round = (p: number) => Number(p.toFixed(DECIMALS));
  return Papa.unparse(
    {
      fields: ['source', 'label', 'confidence', ...classes.map((c) => `p(${c})`)],
      data: rows.map((r) => [r.source, r.label, round(r.confidence), ...r.probabilities.map(round)]),
    },
    { newline: '\r\n' },
  );
}
