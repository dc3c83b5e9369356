import type { Task } from '../task/schema.js';
import { DataError, type DataIssue } from './errors.js';

/** Pixels in memory, interleaved row by row (`data[(y × width + x) × channels + c]`), values 0–255. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 grey, 3 RGB, 4 RGBA (alpha is ignored). */
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** What an image task expects of every example, resolved from its spec and preprocessing. */
export interface ImageGeometry {
  width: number;
  height: number;
  channels: 1 | 3;
  /** The task has a `resize` step: other sizes are resized instead of refused. */
  resize: boolean;
  /** The task has a `scale-pixels` step: values become 0–1 instead of 0–255. */
  scale: boolean;
}

/** The expected image geometry of an image task; throws a DataError for other tasks. */
export function imageGeometry(task: Task): ImageGeometry {
  if (task.dataType !== 'image' || !task.image)
    throw new DataError({ code: 'unsupported-task', message: `task "${task.id}" is not an image task` });
  const { width, height, channels } = task.image;
  return {
    width,
    height,
    channels,
    resize: task.preprocessing.some((s) => s.type === 'resize'),
    scale: task.preprocessing.some((s) => s.type === 'scale-pixels'),
  };
}

/**
 * Writes one image as the task's features (`height × width × channels` values) into `out` at `offset`:
 * converts channels (grey is the luminance 0.299 R + 0.587 G + 0.114 B; grey to RGB repeats it), resizes
 * bilinearly when the task allows it, and scales to 0–1 when the task asks. Returns the problem instead
 * when the size is wrong, `file` naming the image in the message.
 */
export function writeImageFeatures(image: RawImage, geometry: ImageGeometry, out: Float32Array, offset: number, file: string): DataIssue | undefined {
  const { width, height, channels } = geometry;
  const sameSize = image.width === width && image.height === height;
  if (!sameSize && !geometry.resize)
    return {
      code: 'wrong-image-size',
      file,
      message: `${file}: image is ${image.width}×${image.height}, the task expects ${width}×${height}`,
    };
  const factor = geometry.scale ? 1 / 255 : 1;
  if (sameSize) {
    convertChannels(image, channels, factor, out, offset);
    return undefined;
  }
  const converted = new Float32Array(image.width * image.height * channels);
  convertChannels(image, channels, factor, converted, 0);
  resizeBilinear(converted, image.width, image.height, channels, out, offset, width, height);
  return undefined;
}

function convertChannels(image: RawImage, channels: 1 | 3, factor: number, out: Float32Array, offset: number): void {
  const { data, channels: from } = image;
  const pixels = image.width * image.height;
  for (let p = 0; p < pixels; p++) {
    const i = p * from;
    const o = offset + p * channels;
    if (from === 1) {
      for (let c = 0; c < channels; c++) out[o + c] = data[i] * factor;
    } else if (channels === 1) {
      out[o] = (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]) * factor;
    } else {
      out[o] = data[i] * factor;
      out[o + 1] = data[i + 1] * factor;
      out[o + 2] = data[i + 2] * factor;
    }
  }
}

/**
 * Bilinear resize of an interleaved image, sampling at pixel centres (as TF.js `resizeBilinear` with
 * `halfPixelCenters`), edges clamped.
 */
export function resizeBilinear(
  src: Float32Array,
  srcWidth: number,
  srcHeight: number,
  channels: number,
  out: Float32Array,
  offset: number,
  width: number,
  height: number,
): void {
  const sx = srcWidth / width;
  const sy = srcHeight / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), srcHeight - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, srcHeight - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), srcWidth - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, srcWidth - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number) => src[(yy * srcWidth + xx) * channels + c];
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[offset + (y * width + x) * channels + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
}

/** The label index of `label` in the task's classes, or the problem (naming `file`) when it is unknown. */
export function labelIndex(label: string, classes: readonly string[], file: string): number | DataIssue {
  const index = classes.indexOf(label);
  if (index >= 0) return index;
  return { code: 'unknown-label', file, message: `${file}: unknown label "${label}" (expected one of: ${classes.join(', ')})` };
}
