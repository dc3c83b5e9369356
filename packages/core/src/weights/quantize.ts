import { shapeSize, type WeightShape } from './flat.js';

// float16: IEEE half precision, round-to-nearest-even, through a shared float32 view.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Converts one float32 to the bits of the nearest float16. */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> 0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

/** Converts float16 bits back to a number. */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function encodeFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
  return out;
}

export function decodeFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalf(bits[i]);
  return out;
}

/** Affine int8 parameters of one tensor: `value ≈ min + (q + 128) * scale`. */
export interface Int8Range {
  min: number;
  scale: number;
}

/**
 * Quantizes each tensor to int8 with its own range (per-tensor affine quantization), so that a layer
 * with small weights keeps its precision beside a layer with large ones.
 */
export function encodeInt8(values: Float32Array, shapes: readonly WeightShape[]): { bytes: Int8Array; ranges: Int8Range[] } {
  const bytes = new Int8Array(values.length);
  const ranges: Int8Range[] = [];
  let offset = 0;
  for (const { shape } of shapes) {
    const end = offset + shapeSize(shape);
    let min = Infinity;
    let max = -Infinity;
    for (let i = offset; i < end; i++) {
      if (values[i] < min) min = values[i];
      if (values[i] > max) max = values[i];
    }
    if (end === offset) {
      min = 0;
      max = 0;
    }
    const scale = max > min ? (max - min) / 255 : 1;
    for (let i = offset; i < end; i++) bytes[i] = Math.round((values[i] - min) / scale) - 128;
    ranges.push({ min, scale });
    offset = end;
  }
  return { bytes, ranges };
}

export function decodeInt8(bytes: Int8Array, shapes: readonly WeightShape[], ranges: readonly Int8Range[]): Float32Array {
  const out = new Float32Array(bytes.length);
  let offset = 0;
  shapes.forEach(({ shape }, t) => {
    const { min, scale } = ranges[t];
    const end = offset + shapeSize(shape);
    for (let i = offset; i < end; i++) out[i] = min + (bytes[i] + 128) * scale;
    offset = end;
  });
  return out;
}
