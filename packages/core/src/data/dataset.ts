/**
 * Data in memory, after parsing and preprocessing, as typed arrays (not tensors): cheap to split,
 * shard among simulated clients and hand to a Web Worker. Training turns it into tensors batch by batch.
 */
export interface Dataset {
  /** `count × product(featureShape)` values, row-major. */
  features: Float32Array;
  /** Shape of one example, e.g. `[9]` for a tabular row or `[28, 28, 1]` for an image. */
  featureShape: number[];
  /**
   * Class index of each example, or null for unlabelled data (prediction). With a {@link labelShape}, each
   * example has `product(labelShape)` of them (a language model's next-token targets, -1 marking padding).
   */
  labels: Int32Array | null;
  /** Shape of one example's labels: absent for one class index per example; `[contextLength]` for text windows. */
  labelShape?: number[];
  /** Class names, in index order (the task's label list); empty for text (the classes are the tokenizer's vocabulary). */
  classes: string[];
  /** Number of examples. */
  count: number;
  /** Where each example came from (file name, or `line N`), to report predictions and errors. */
  sources?: string[];
}
