import { crc32 } from '../weights/crc32.js';

/**
 * Framing of binary messages over a WebRTC data channel. Data channels cap a message at 64–256 KiB
 * depending on the implementation (TOOLCHAIN §6), so a message of any size is cut into frames of at
 * most {@link MAX_FRAME_BYTES}, each with a 28-byte little-endian header:
 *
 * ```
 * u8 magic 0xD5 | u8 version | u16 reserved | u32 message id | u32 CRC-32 of the whole message
 * | u32 total length (low) | u32 total length (high) | u32 offset (low) | u32 offset (high)
 * ```
 * Lengths and offsets take 64 bits (used up to 2^53) so that no message size is capped by the format.
 * The receiver reassembles by message id and checks length and CRC before handing the message over.
 */
export const FRAME_HEADER_BYTES = 28;
/** The largest frame, header included: the size every data-channel implementation accepts. */
export const MAX_FRAME_BYTES = 64 * 1024;
const MAGIC = 0xd5;
const VERSION = 1;
const HIGH = 2 ** 32;

/** Raised when frames cannot be reassembled into the message they announce. */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** Cuts `message` into frames of at most `frameBytes` bytes (header included). */
export function* encodeFrames(messageId: number, message: Uint8Array, frameBytes = MAX_FRAME_BYTES): Generator<Uint8Array> {
  const payloadBytes = frameBytes - FRAME_HEADER_BYTES;
  if (payloadBytes < 1) throw new RangeError(`frames of ${frameBytes} bytes leave no room for a payload`);
  const checksum = crc32(message);
  let offset = 0;
  do {
    const length = Math.min(payloadBytes, message.length - offset);
    const frame = new Uint8Array(FRAME_HEADER_BYTES + length);
    const view = new DataView(frame.buffer);
    view.setUint8(0, MAGIC);
    view.setUint8(1, VERSION);
    view.setUint32(4, messageId >>> 0, true);
    view.setUint32(8, checksum, true);
    writeUint53(view, 12, message.length);
    writeUint53(view, 20, offset);
    frame.set(message.subarray(offset, offset + length), FRAME_HEADER_BYTES);
    yield frame;
    offset += length;
  } while (offset < message.length);
}

interface Partial {
  bytes: Uint8Array;
  received: number;
  checksum: number;
}

/**
 * Rebuilds messages from frames. Frames of several messages may interleave; a message is returned
 * once all its bytes arrived and its CRC-32 matches, otherwise a {@link FramingError} is thrown and the
 * partial message dropped.
 */
export class Reassembler {
  readonly #partials = new Map<number, Partial>();

  /** @param maxMessageBytes refuses announced lengths above this (none by default). */
  constructor(private readonly maxMessageBytes = Number.POSITIVE_INFINITY) {}

  /** Number of messages partly received. */
  get pending(): number {
    return this.#partials.size;
  }

  /** Takes one frame; returns the completed message, or null while more frames are expected. */
  push(frame: Uint8Array): { id: number; message: Uint8Array } | null {
    if (frame.length < FRAME_HEADER_BYTES) throw new FramingError(`frame of ${frame.length} bytes is shorter than its header`);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (view.getUint8(0) !== MAGIC) throw new FramingError('not a Disco peer frame (bad magic byte)');
    if (view.getUint8(1) !== VERSION) throw new FramingError(`unsupported peer frame version ${view.getUint8(1)}`);
    const id = view.getUint32(4, true);
    const checksum = view.getUint32(8, true);
    const total = readUint53(view, 12);
    const offset = readUint53(view, 20);
    const payload = frame.subarray(FRAME_HEADER_BYTES);

    let partial = this.#partials.get(id);
    if (!partial) {
      if (total > this.maxMessageBytes) throw new FramingError(`message ${id} announces ${total} bytes, over the limit of ${this.maxMessageBytes}`);
      partial = { bytes: new Uint8Array(total), received: 0, checksum };
      this.#partials.set(id, partial);
    }
    const fail = (reason: string): never => {
      this.#partials.delete(id);
      throw new FramingError(`message ${id}: ${reason}`);
    };
    if (partial.bytes.length !== total || partial.checksum !== checksum) fail('frames disagree on the length or checksum');
    if (offset + payload.length > total) fail(`frame at ${offset} (+${payload.length}) runs past the announced ${total} bytes`);
    partial.bytes.set(payload, offset);
    partial.received += payload.length;
    if (partial.received > total) fail('received more bytes than announced (duplicated frame)');
    if (partial.received < total) return null;
    this.#partials.delete(id);
    if (crc32(partial.bytes) !== checksum) fail('checksum mismatch: the message is corrupted');
    return { id, message: partial.bytes };
  }

  /** Drops every partly received message (e.g. when the connection closes). */
  clear(): void {
    this.#partials.clear();
  }
}

function writeUint53(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % HIGH, true);
  view.setUint32(at + 4, Math.floor(value / HIGH), true);
}

function readUint53(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * HIGH;
}
