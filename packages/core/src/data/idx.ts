import type { Task } from '../task/schema.js';
import type { Dataset } from './dataset.js';
import { DataError, type DataIssue, throwIfIssues } from './errors.js';
import { imageGeometry, writeImageFeatures, type RawImage } from './pixels.js';

/** The element types of the IDX format (the third byte of the magic number). */
const idxTypes = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
} as const;

/** An array read from an IDX file (the format of the MNIST files). */
export interface IdxArray {
  type: (typeof idxTypes)[keyof typeof idxTypes]['name'];
  /** Sizes of the dimensions, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** The values, row-major. `uint8` data is a view on the file's bytes, without a copy. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Whether `bytes` start like an IDX file: two zero bytes, a known type, 1 to 4 dimensions. */
export function isIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] in idxTypes && bytes[3] >= 1 && bytes[3] <= 4;
}

/**
 * Reads an IDX file: magic number (0, 0, type, number of dimensions), the dimensions as big-endian
 * 32-bit integers, then the values, big-endian. Throws a DataError (`wrong-format`) when the bytes are not
 * a complete IDX file; `file` names it in the message.
 *
 * @example
 * const { dims, data } = readIdx(bytes); // dims [10000, 28, 28], data Uint8Array
 */
export function readIdx(bytes: Uint8Array, file = 'data.idx'): IdxArray {
  const fail = (reason: string) => new DataError({ code: 'wrong-format', file, message: `${file}: not an IDX file (${reason})` });
  if (!isIdx(bytes)) throw fail('unknown magic number');
  const type = idxTypes[bytes[2] as keyof typeof idxTypes];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rank = bytes[3];
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) throw fail('truncated header');
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < headerSize + count * type.size)
    throw fail(`expected ${count * type.size} bytes of data after the header, found ${bytes.length - headerSize}`);
  if (type.name === 'uint8') return { type: type.name, dims, data: bytes.subarray(headerSize, headerSize + count) };
  if (type.name === 'int8') return { type: type.name, dims, data: new Int8Array(bytes.buffer, bytes.byteOffset + headerSize, count) };
  const read = {
    int16: () => Int16Array.from({ length: count }, (_, i) => view.getInt16(headerSize + 2 * i)),
    int32: () => Int32Array.from({ length: count }, (_, i) => view.getInt32(headerSize + 4 * i)),
    float32: () => Float32Array.from({ length: count }, (_, i) => view.getFloat32(headerSize + 4 * i)),
    float64: () => Float64Array.from({ length: count }, (_, i) => view.getFloat64(headerSize + 8 * i)),
  }[type.name];
  return { type: type.name, dims, data: read() };
}

/** Writes unsigned bytes as an IDX file (type `uint8`), e.g. to export images in the MNIST format. */
export function encodeIdx(data: Uint8Array, dims: number[]): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`dims ${dims.join('×')} hold ${count} values, got ${data.length}`);
  const bytes = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(bytes.buffer);
  bytes[2] = 0x08;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

/** Options of {@link datasetFromIdx}. */
export interface IdxOptions {
  /** Read only the first `limit` examples (default all). */
  limit?: number;
  /** File names for messages. */
  imagesFile?: string;
  labelsFile?: string;
}

/**
 * An image data set from an IDX pair, e.g. `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`.
 * Images are `uint8` with dims `[n, height, width]` (grey) or `[n, height, width, channels]`; labels are
 * `uint8` with dims `[n]`, each the index of a class in the task's label list (MNIST's digit `7` is class 7
 * of `'0'…'9'`). Pass `labels` null for unlabelled images.
 */
export function datasetFromIdx(images: Uint8Array | IdxArray, labels: Uint8Array | IdxArray | null, task: Task, options: IdxOptions = {}): Dataset {
  const { imagesFile = 'images.idx', labelsFile = 'labels.idx' } = options;
  const geometry = imageGeometry(task);
  const classes = task.image?.labels ?? [];
  const img = images instanceof Uint8Array ? readIdx(images, imagesFile) : images;
  const lab = labels instanceof Uint8Array ? readIdx(labels, labelsFile) : labels;
  const wrong = (file: string, reason: string) => new DataError({ code: 'wrong-format', file, message: `${file}: ${reason}` });
  const [total, height, width, channels = 1] = img.dims;
  if (img.type !== 'uint8' || (img.dims.length !== 3 && img.dims.length !== 4) || ![1, 3, 4].includes(channels))
    throw wrong(imagesFile, `expected uint8 images of dims [count, height, width] or [count, height, width, channels], found ${img.type} [${img.dims.join(', ')}]`);
  if (lab && (lab.type !== 'uint8' || lab.dims.length !== 1))
    throw wrong(labelsFile, `expected uint8 labels of dims [count], found ${lab.type} [${lab.dims.join(', ')}]`);
  if (lab && lab.dims[0] !== total) throw wrong(labelsFile, `holds ${lab.dims[0]} labels for ${total} images in ${imagesFile}`);

  const count = Math.min(total, options.limit ?? total);
  const size = geometry.width * geometry.height * geometry.channels;
  const features = new Float32Array(count * size);
  const out = lab ? new Int32Array(count) : null;
  const pixels = width * height * channels;
  const issues: DataIssue[] = [];
  for (let i = 0; i < count && issues.length < 100; i++) {
    const image: RawImage = { width, height, channels: channels as RawImage['channels'], data: (img.data as Uint8Array).subarray(i * pixels, (i + 1) * pixels) };
    const source = `${imagesFile}[${i}]`;
    const issue = writeImageFeatures(image, geometry, features, i * size, source);
    if (issue) {
      // Every image of an IDX file has the same size: one message says it all.
      throw new DataError({ ...issue, file: imagesFile, message: `${imagesFile}: image is ${width}×${height}, the task expects ${geometry.width}×${geometry.height}` });
    }
    if (out && lab) {
      const value = lab.data[i];
      if (value < classes.length) out[i] = value;
      else
        issues.push({
          code: 'unknown-label',
          file: labelsFile,
          message: `${labelsFile}[${i}]: unknown label ${value} (expected a class index from 0 to ${classes.length - 1})`,
        });
    }
  }
  throwIfIssues(issues);
  return {
    features,
    featureShape: [geometry.height, geometry.width, geometry.channels],
    labels: out,
    classes: [...classes],
    count,
    sources: Array.from({ length: count }, (_, i) => `${imagesFile}[${i}]`),
  };
}
