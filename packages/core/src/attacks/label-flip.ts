import type { Dataset } from '../data/dataset.js';

/**
 * The label-flipping attack (data poisoning): the same examples with each label y replaced by
 * (classes − 1 − y). The attacker then trains and uploads like an honest participant.
 *
 * @example flipLabels(mnistShard).labels; // every 3 becomes a 6
 */
export function flipLabels(dataset: Dataset): Dataset {
  if (!dataset.labels) throw new Error('label flipping needs labelled data');
  const last = dataset.classes.length - 1;
  return { ...dataset, labels: dataset.labels.map((y) => last - y) };
}
