import { crc32 } from './crc32.js';
import { firstNonFinite, totalSize, type FlatWeights, type WeightShape } from './flat.js';
import { decodeFloat16, decodeInt8, encodeFloat16, encodeInt8, type Int8Range } from './quantize.js';
import type { Quantization } from '../task/schema.js';

/**
 * The binary format of weights on the wire and on disk:
 *
 * ```
 * "DSCW" | u8 format version | u8 dtype | u16 reserved | u32 header bytes | header (UTF-8 JSON) | pad to 4 | payload
 * ```
 * The header names the task, the model version, the shapes, the dtype's parameters and the CRC-32 of the
 * payload. Float32 costs 4 bytes per parameter plus a header of a few hundred bytes.
 */
export const WEIGHTS_FORMAT_VERSION = 1;
const MAGIC = [0x44, 0x53, 0x43, 0x57]; // "DSCW"
const PREFIX = 12;
const DTYPE_CODES: Record<Quantization, number> = { float32: 0, float16: 1, int8: 2 };
const BYTES_PER_VALUE: Record<Quantization, number> = { float32: 4, float16: 2, int8: 1 };

export interface WeightsHeader {
  taskId: string;
  /** The global model version these weights are (or are an update of). */
  modelVersion: number;
  shapes: WeightShape[];
  dtype: Quantization;
  /** CRC-32 of the payload bytes. */
  checksum: number;
  /** int8 only: one affine range per tensor. */
  ranges?: Int8Range[];
  /** Free-form numbers that travel with the weights, e.g. `{ samples: 712 }`. */
  meta?: Record<string, number>;
}

export interface EncodeOptions {
  taskId: string;
  modelVersion: number;
  dtype?: Quantization;
  meta?: Record<string, number>;
}

/** Raised for any payload that is not a well-formed weights message; `message` says what is wrong. */
export class WeightsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsFormatError';
  }
}

/** Encodes weights into one binary message. */
export function encodeWeights(weights: FlatWeights, options: EncodeOptions): Uint8Array {
  const dtype = options.dtype ?? 'float32';
  if (weights.values.length !== totalSize(weights.shapes))
    throw new WeightsFormatError(`weights hold ${weights.values.length} values but the shapes describe ${totalSize(weights.shapes)}`);
  let payload: Uint8Array;
  let ranges: Int8Range[] | undefined;
  if (dtype === 'float32') payload = new Uint8Array(weights.values.buffer, weights.values.byteOffset, weights.values.byteLength);
  else if (dtype === 'float16') payload = new Uint8Array(encodeFloat16(weights.values).buffer);
  else {
    const q = encodeInt8(weights.values, weights.shapes);
    payload = new Uint8Array(q.bytes.buffer);
    ranges = q.ranges;
  }
  const header: WeightsHeader = {
    taskId: options.taskId,
    modelVersion: options.modelVersion,
    shapes: weights.shapes,
    dtype,
    checksum: crc32(payload),
    ...(ranges ? { ranges } : {}),
    ...(options.meta ? { meta: options.meta } : {}),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const payloadStart = align4(PREFIX + headerBytes.length);
  const out = new Uint8Array(payloadStart + payload.length);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint8(4, WEIGHTS_FORMAT_VERSION);
  view.setUint8(5, DTYPE_CODES[dtype]);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, PREFIX);
  out.set(payload, payloadStart);
  return out;
}

/** Reads only the header: cheap, for checks before a payload is accepted. */
export function readWeightsHeader(bytes: Uint8Array): { header: WeightsHeader; payloadStart: number } {
  if (bytes.length < PREFIX || MAGIC.some((b, i) => bytes[i] !== b))
    throw new WeightsFormatError('not a Disco weights message (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== WEIGHTS_FORMAT_VERSION)
    throw new WeightsFormatError(`unsupported weights format version ${version} (this build reads ${WEIGHTS_FORMAT_VERSION})`);
  const headerLength = view.getUint32(8, true);
  if (PREFIX + headerLength > bytes.length) throw new WeightsFormatError('truncated weights message (header)');
  let header: WeightsHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headerLength))) as WeightsHeader;
  } catch {
    throw new WeightsFormatError('weights header is not valid JSON');
  }
  if (
    typeof header !== 'object' ||
    header === null ||
    !Array.isArray(header.shapes) ||
    !header.shapes.every((s) => s && typeof s.name === 'string' && Array.isArray(s.shape) && s.shape.every((d) => Number.isInteger(d) && d >= 0)) ||
    !(header.dtype in DTYPE_CODES) ||
    typeof header.checksum !== 'number'
  )
    throw new WeightsFormatError('weights header is malformed');
  if (DTYPE_CODES[header.dtype] !== view.getUint8(5)) throw new WeightsFormatError('weights dtype byte disagrees with the header');
  return { header, payloadStart: align4(PREFIX + headerLength) };
}

/** Options of {@link decodeWeights}. */
export interface DecodeOptions {
  /**
   * Float32 values may be a view of `bytes` (no copy) when the payload is 4-byte aligned in memory: for a
   * caller that is done with them before `bytes` is reused or changed, e.g. a server adding an update to a
   * sum. Default false: the values are a copy, owned by the caller.
   */
  view?: boolean;
}

/**
 * Decodes a weights message, checking its length against its shapes, its checksum and that every value
 * is finite. Throws {@link WeightsFormatError} with a precise message otherwise.
 */
export function decodeWeights(bytes: Uint8Array, options: DecodeOptions = {}): { header: WeightsHeader; weights: FlatWeights } {
  const { header, payloadStart } = readWeightsHeader(bytes);
  const count = totalSize(header.shapes);
  const expectedBytes = count * BYTES_PER_VALUE[header.dtype];
  const payload = bytes.subarray(payloadStart);
  if (payload.length !== expectedBytes)
    throw new WeightsFormatError(`weights payload is ${payload.length} bytes, expected ${expectedBytes} for ${count} ${header.dtype} values`);
  if (crc32(payload) !== header.checksum) throw new WeightsFormatError('weights checksum mismatch: the payload is corrupted');
  let values: Float32Array;
  // A view when asked and aligned: a copy of 4 MB costs more than the checks (fresh pages on every update).
  if (header.dtype === 'float32' && options.view && payload.byteOffset % 4 === 0) return checked(header, new Float32Array(payload.buffer, payload.byteOffset, count));
  // Copy into aligned, owned memory: the input may be a view into a larger network buffer.
  const owned = payload.slice();
  if (header.dtype === 'float32') values = new Float32Array(owned.buffer);
  else if (header.dtype === 'float16') values = decodeFloat16(new Uint16Array(owned.buffer));
  else {
    if (!Array.isArray(header.ranges) || header.ranges.length !== header.shapes.length)
      throw new WeightsFormatError('int8 weights need one range per tensor');
    values = decodeInt8(new Int8Array(owned.buffer), header.shapes, header.ranges);
  }
  return checked(header, values);
}

/** The decoded message once every value is known to be finite. */
function checked(header: WeightsHeader, values: Float32Array): { header: WeightsHeader; weights: FlatWeights } {
  const bad = firstNonFinite(values);
  if (bad >= 0) throw new WeightsFormatError(`weights contain a non-finite value (${values[bad]}) at index ${bad}`);
  return { header, weights: { values, shapes: header.shapes } };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
