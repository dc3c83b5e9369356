/**
 * Data in memory, after parsing and preprocessing, as typed arrays (not tensors): cheap to split,
 * shard among simulated clients and hand to a Web Worker. Training turns it into tensors batch by batch.
 */
export interface Dataset {
  /** `count × product(featureShape)` values, row-major. */
  features: Float32Array;
  /** Shape of one example, e.g. `[9]` for a tabular row or `[28, 28, 1]` for an image. */
  featureShape: number[];
  /** Class index of each example, or null for unlabelled data (prediction). */
  labels: Int32Array | null;
  /** Class names, in index order (the task's label list). */
  classes: string[];
  /** Number of examples. */
  count: number;
  /** Where each example came from (file name, or `line N`), to report predictions and errors. */
  sources?: string[];
}
