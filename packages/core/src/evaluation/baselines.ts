import type { Dataset } from '../data/dataset.js';
import { tabularFeatureNames } from '../data/tabular.js';
import { titanic } from '../task/builtin/titanic.js';
import type { Task } from '../task/schema.js';

/**
 * Accuracy of the obvious rule for the Titanic, "women survive, men die", on `dataset` (labelled examples of
 * `task`, encoded by its preprocessing): the bar a trained model must beat on the same examples. It scores
 * 0.78 over all 1,309 passengers, but anywhere from about 0.74 to 0.81 on a few hundred of them, so compare a
 * model with the rule on the very examples the model is evaluated on.
 *
 * @example
 * const test = parseTabular(heldOutCsv, titanic);
 * evaluateModel(model, test).accuracy > womenSurviveAccuracy(test) // the model learned more than the sex
 */
export function womenSurviveAccuracy(dataset: Dataset, task: Task = titanic): number {
  const female = tabularFeatureNames(task).indexOf('Sex=female');
  const survived = dataset.classes.indexOf('1');
  if (female < 0 || survived < 0) throw new RangeError(`task "${task.id}" has no one-hot Sex=female input or no class "1"`);
  if (!dataset.labels || dataset.count === 0) throw new RangeError('the rule is scored on labelled examples; the data set has none');
  const width = dataset.features.length / dataset.count;
  let correct = 0;
  for (let i = 0; i < dataset.count; i++) {
    const predicted = dataset.features[i * width + female] === 1 ? survived : 1 - survived;
    if (predicted === dataset.labels[i]) correct++;
  }
  return correct / dataset.count;
}
