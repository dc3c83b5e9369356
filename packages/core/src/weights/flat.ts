/**
 * Model weights as one flat `Float32Array` plus the named shapes that cut it into tensors.
 * Aggregation, clipping, noise, masking and the wire format work on this; TF.js only trains.
 */
export interface WeightShape {
  /** The TF.js variable name, e.g. `dense_1/kernel`. */
  name: string;
  shape: number[];
}

export interface FlatWeights {
  values: Float32Array;
  shapes: WeightShape[];
}

/** Number of scalars in a shape. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total number of scalars the shapes describe. */
export function totalSize(shapes: readonly WeightShape[]): number {
  return shapes.reduce((sum, s) => sum + shapeSize(s.shape), 0);
}

/** Describes how `actual` differs from `expected`, or returns null when they agree. */
export function describeShapeMismatch(expected: readonly WeightShape[], actual: readonly WeightShape[]): string | null {
  if (expected.length !== actual.length) return `expected ${expected.length} weight tensors, got ${actual.length}`;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i].shape;
    const a = actual[i].shape;
    if (e.length !== a.length || e.some((d, j) => d !== a[j]))
      return `weight ${i} (${expected[i].name}) has shape [${a.join(',')}], expected [${e.join(',')}]`;
  }
  return null;
}

/** Index of the first NaN or ±Infinity, or -1 when every value is finite. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** `a - b`, element-wise, as a new array. */
export function subtract(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** `a + b`, element-wise, as a new array. */
export function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Euclidean (L2) norm. */
export function l2Norm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}
