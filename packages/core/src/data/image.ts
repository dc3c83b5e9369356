import type { Task } from '../task/schema.js';
import type { Dataset } from './dataset.js';
import { type DataIssue, throwIfIssues } from './errors.js';
import { imageGeometry, labelIndex, writeImageFeatures, type RawImage } from './pixels.js';

/**
 * Decodes PNG or JPEG bytes to pixels; throws (anything) when it cannot. Injected, because decoding
 * differs by platform: {@link browserImageDecoder} in browsers and workers, `nodeImageDecoder` from
 * `@disco/core/node` in Node.
 */
export type ImageDecoder = (bytes: Uint8Array, name: string) => Promise<RawImage>;

/** An image file in memory. `name` may be a relative path, whose folder then gives the label. */
export interface ImageFile {
  name: string;
  bytes: Uint8Array;
  /** The label, when known otherwise (e.g. from a `filename,label` CSV); overrides the folder name. */
  label?: string;
}

/** Options of {@link loadImageDataset}. */
export interface LoadImageOptions {
  decode: ImageDecoder;
  /**
   * Whether every image needs a known label (default true). When false (prediction), labels are kept only
   * if every image has a known one, else `labels` is null: folder names need not be classes then.
   */
  requireLabels?: boolean;
  /** Images decoded at the same time (default 8): enough to keep a browser's decoder busy. */
  concurrency?: number;
}

/** The image formats accepted, recognised by their first bytes rather than by file name. */
export function imageFormat(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** The folder a file is in, as its label: `7/img001.png` → `7`, `digits/7/img001.png` → `7`. */
export function labelFromPath(name: string): string | undefined {
  const parts = name.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

/** The outcome of reading a list of images: the features of all, the problem of each file if any. */
export interface ImageBatch {
  features: Float32Array;
  /** Per file: its class index, -1 when unknown. */
  labels: Int32Array;
  /** Per file: its problem, if any. */
  issues: (DataIssue | undefined)[];
  /** Whether every file has a known label. */
  labelled: boolean;
}

/**
 * Decodes, checks and converts images to the task's features, reporting each file's problem instead of
 * throwing, so that a caller can show them next to the files (see {@link loadImageDataset} for the rules).
 */
export async function readImages(files: ImageFile[], task: Task, options: LoadImageOptions): Promise<ImageBatch> {
  const { decode, requireLabels = true, concurrency = 8 } = options;
  const geometry = imageGeometry(task);
  const classes = task.image?.labels ?? [];
  const size = geometry.width * geometry.height * geometry.channels;
  const features = new Float32Array(files.length * size);
  const labels = new Int32Array(files.length).fill(-1);
  const issues = new Array<DataIssue | undefined>(files.length).fill(undefined);

  const readOne = async (i: number) => {
    const { name, bytes } = files[i];
    const unreadable: DataIssue = { code: 'unreadable-image', file: name, message: `${name}: not a readable image (PNG or JPEG expected)` };
    if (!imageFormat(bytes)) return unreadable;
    let image: RawImage;
    try {
      image = await decode(bytes, name);
    } catch {
      return unreadable;
    }
    const sizeIssue = writeImageFeatures(image, geometry, features, i * size, name);
    if (sizeIssue) return sizeIssue;
    const label = files[i].label ?? labelFromPath(name);
    if (label === undefined) {
      if (!requireLabels) return undefined;
      return {
        code: 'missing-value',
        file: name,
        message: `${name}: no label (put the image in a folder named after its class, e.g. ${classes[0]}/${name}, or list it in a filename,label CSV file)`,
      } satisfies DataIssue;
    }
    const index = labelIndex(label, classes, name);
    if (typeof index !== 'number') return requireLabels ? index : undefined;
    labels[i] = index;
    return undefined;
  };

  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      issues[i] = await readOne(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  return { features, labels, issues, labelled: labels.every((l) => l >= 0) };
}

/**
 * Loads image files for an image task. Each file must be a PNG or JPEG (recognised by its content) of
 * the task's size, unless the task has a `resize` step (then it is resized bilinearly). Colours are
 * converted to the task's channels (grey = luminance; an alpha channel is ignored), and scaled to 0–1 with
 * a `scale-pixels` step. The label is the file's `label`, else the name of its folder (`7/img001.png` → `7`).
 *
 * Every bad file is reported in one {@link DataError}, e.g. `cat.png: image is 30×30, the task expects 28×28`
 * or `notes.txt: not a readable image (PNG or JPEG expected)`.
 *
 * @example
 * const ds = await loadImageDataset([{ name: '7/a.png', bytes }], mnist, { decode: browserImageDecoder });
 */
export async function loadImageDataset(files: ImageFile[], task: Task, options: LoadImageOptions): Promise<Dataset> {
  const geometry = imageGeometry(task);
  const batch = await readImages(files, task, options);
  throwIfIssues(batch.issues.filter((i): i is DataIssue => i !== undefined));
  return {
    features: batch.features,
    featureShape: [geometry.height, geometry.width, geometry.channels],
    labels: batch.labelled ? batch.labels : null,
    classes: [...(task.image?.labels ?? [])],
    count: files.length,
    sources: files.map((f) => f.name),
  };
}
