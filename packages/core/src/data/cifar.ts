import type { Task } from '../task/schema.js';
import type { Dataset } from './dataset.js';
import { DataError, type DataIssue, throwIfIssues } from './errors.js';
import { imageGeometry, writeImageFeatures } from './pixels.js';

const SIDE = 32;
const PLANE = SIDE * SIDE;
/** One CIFAR-10 binary record: a label byte, then the red, green and blue planes of a 32×32 image. */
export const CIFAR_RECORD_BYTES = 1 + 3 * PLANE;

/** Whether `bytes` can be CIFAR-10 binary records (their length is a positive multiple of 3073). */
export function isCifarBatch(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.length % CIFAR_RECORD_BYTES === 0;
}

/** Options of {@link datasetFromCifarBatch}. */
export interface CifarOptions {
  /** File name for messages and sources (default `data_batch.bin`). */
  source?: string;
  /** Read only the first `limit` records. */
  limit?: number;
}

/**
 * An image data set from a CIFAR-10 binary batch (`data_batch_1.bin` … `test_batch.bin`): records of
 * 1 label byte (the class index, 0 = airplane … 9 = truck) and 3,072 pixel bytes, the 32×32 red plane,
 * then green, then blue, rows top to bottom. The task decides channels, scaling and resizing as for any image.
 */
export function datasetFromCifarBatch(bytes: Uint8Array, task: Task, options: CifarOptions = {}): Dataset {
  const { source = 'data_batch.bin' } = options;
  const geometry = imageGeometry(task);
  const classes = task.image?.labels ?? [];
  if (!isCifarBatch(bytes))
    throw new DataError({
      code: 'wrong-format',
      file: source,
      message: `${source}: ${bytes.length} bytes is not a whole number of CIFAR-10 records (1 label byte + 32×32×3 pixel bytes = ${CIFAR_RECORD_BYTES} bytes each)`,
    });
  const count = Math.min(bytes.length / CIFAR_RECORD_BYTES, options.limit ?? Infinity);
  const size = geometry.width * geometry.height * geometry.channels;
  const features = new Float32Array(count * size);
  const labels = new Int32Array(count);
  const issues: DataIssue[] = [];
  const pixels = new Uint8Array(PLANE * 3);
  for (let i = 0; i < count; i++) {
    const record = bytes.subarray(i * CIFAR_RECORD_BYTES, (i + 1) * CIFAR_RECORD_BYTES);
    // Planar (RRR…GGG…BBB…) to interleaved (RGBRGB…).
    for (let p = 0; p < PLANE; p++) {
      pixels[p * 3] = record[1 + p];
      pixels[p * 3 + 1] = record[1 + PLANE + p];
      pixels[p * 3 + 2] = record[1 + 2 * PLANE + p];
    }
    const sizeIssue = writeImageFeatures({ width: SIDE, height: SIDE, channels: 3, data: pixels }, geometry, features, i * size, source);
    if (sizeIssue) throw new DataError(sizeIssue);
    if (record[0] < classes.length) labels[i] = record[0];
    else
      issues.push({
        code: 'unknown-label',
        file: source,
        message: `${source}, record ${i}: unknown label ${record[0]} (expected a class index from 0 to ${classes.length - 1})`,
      });
  }
  throwIfIssues(issues);
  return {
    features,
    featureShape: [geometry.height, geometry.width, geometry.channels],
    labels,
    classes: [...classes],
    count,
    sources: Array.from({ length: count }, (_, i) => `${source}[${i}]`),
  };
}
