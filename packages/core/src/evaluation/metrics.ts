/** Precision, recall and F1 of one class, over the examples evaluated. */
export interface ClassMetrics {
  label: string;
  /** Of the examples predicted as this class, the fraction that are (0 when none was predicted). */
  precision: number;
  /** Of the examples of this class, the fraction predicted as such (0 when there are none). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Number of examples of this class. */
  support: number;
}

/** An example the model got wrong. */
export interface Misclassified {
  /** Position of the example in the data set. */
  index: number;
  /** Where it came from (file name or `line N`), when the data set says. */
  source?: string;
  expected: string;
  predicted: string;
  /** The probability the model gave its (wrong) prediction. */
  confidence: number;
}

/** How well a model does on labelled data. */
export interface EvaluationReport {
  /** Examples evaluated. */
  count: number;
  accuracy: number;
  /** Mean categorical crossentropy (a language model: per predicted token, in nats). */
  loss: number;
  /** Language models: exp(loss). */
  perplexity?: number;
  /** Language models: the tokens predicted (the windows' targets that are not padding). */
  tokens?: number;
  perClass: ClassMetrics[];
  /** `confusion[expected][predicted]`: the number of examples of class `expected` predicted as `predicted`. */
  confusion: number[][];
  /** The wrong predictions, most confident first. */
  misclassified: Misclassified[];
}

/** Probabilities are clipped to [ε, 1 − ε] before the logarithm, as Keras does. */
const EPSILON = 1e-7;

/** Index of the largest value of `row` (the first one on ties). */
export function argMax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * The evaluation report of predicted class probabilities against the true labels: pure arithmetic, so that
 * it can be checked with literal numbers.
 *
 * @param probabilities `count × classes.length` values, row-major (e.g. a softmax output).
 * @param labels the true class index of each example.
 */
export function evaluatePredictions(
  probabilities: Float32Array | number[],
  labels: ArrayLike<number>,
  classes: readonly string[],
  sources?: readonly string[],
): EvaluationReport {
  const k = classes.length;
  const count = labels.length;
  if (probabilities.length !== count * k)
    throw new RangeError(`${probabilities.length} probabilities for ${count} examples of ${k} classes`);
  const confusion = classes.map(() => new Array<number>(k).fill(0));
  const misclassified: Misclassified[] = [];
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const row = probabilities.slice(i * k, (i + 1) * k);
    const expected = labels[i];
    const predicted = argMax(row);
    confusion[expected][predicted] += 1;
    loss -= Math.log(Math.min(Math.max(row[expected], EPSILON), 1 - EPSILON));
    if (predicted === expected) correct += 1;
    else
      misclassified.push({
        index: i,
        ...(sources?.[i] !== undefined ? { source: sources[i] } : {}),
        expected: classes[expected],
        predicted: classes[predicted],
        confidence: row[predicted],
      });
  }
  misclassified.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  const perClass = classes.map((label, c) => {
    const truePositives = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((sum, row) => sum + row[c], 0);
    const precision = predictedAs === 0 ? 0 : truePositives / predictedAs;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  return { count, accuracy: count === 0 ? 0 : correct / count, loss: count === 0 ? 0 : loss / count, perClass, confusion, misclassified };
}
