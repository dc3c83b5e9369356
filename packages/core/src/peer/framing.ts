import { crc32 } from '../weights/crc32.js';

/**
 * Framing of binary messages over a WebRTC data channel. Data channels cap a message at 64–256 KiB
 * depending on the implementation (TOOLCHAIN §6), so a message of any size is cut into frames of at
 * most {@link MAX_FRAME_BYTES}, each with a 28-byte little-endian header:
 *
 * ```
 * u8 magic 0xD5 | u8 version | u16 flags | u32 message id | u32 running CRC-32
 * | u32 total length (low) | u32 total length (high) | u32 offset (low) | u32 offset (high)
 * ```
 * The CRC-32 is that of the message from its start to the end of this frame, so the last frame carries
 * the CRC of the whole message: both ends compute it piece by piece as frames go (no pass over the whole
 * message before the first frame leaves or after the last arrives), and a corrupted frame is caught on
 * arrival. Lengths and offsets take 64 bits (used up to 2^53): no message size is capped by the format.
 * Frames of one message come in order (a data channel is ordered); those of several may interleave.
 * Flag bit 0 marks a goodbye: a header-only frame a peer sends before it closes, so that the other side
 * learns of it at once rather than from the channel's teardown (which WebRTC stacks do not all signal).
 */
export const FRAME_HEADER_BYTES = 28;
/** The largest frame, header included: the size every data-channel implementation accepts. */
export const MAX_FRAME_BYTES = 64 * 1024;
const MAGIC = 0xd5;
const VERSION = 1;
const HIGH = 2 ** 32;

const GOODBYE = 1;

/** The frame a peer sends just before closing the connection. */
export function goodbyeFrame(): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(frame.buffer);
  view.setUint8(0, MAGIC);
  view.setUint8(1, VERSION);
  view.setUint16(2, GOODBYE, true);
  return frame;
}

/** True for a {@link goodbyeFrame}. */
export function isGoodbye(frame: Uint8Array): boolean {
  return frame.length === FRAME_HEADER_BYTES && frame[0] === MAGIC && (new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint16(2, true) & GOODBYE) !== 0;
}

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
  let checksum = 0;
  let offset = 0;
  do {
    const length = Math.min(payloadBytes, message.length - offset);
    const frame = new Uint8Array(FRAME_HEADER_BYTES + length);
    const view = new DataView(frame.buffer);
    checksum = crc32(message.subarray(offset, offset + length), checksum);
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
  /** Running CRC-32 of the bytes received so far. */
  checksum: number;
}

/**
 * Rebuilds messages from frames. Frames of several messages may interleave; each frame is checked on
 * arrival (its place, its running CRC-32), and a message is returned once all its announced bytes came.
 * Otherwise a {@link FramingError} is thrown and the partial message dropped.
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
      partial = { bytes: new Uint8Array(total), received: 0, checksum: 0 };
      this.#partials.set(id, partial);
    }
    const fail = (reason: string): never => {
      this.#partials.delete(id);
      throw new FramingError(`message ${id}: ${reason}`);
    };
    if (partial.bytes.length !== total) fail(`frames disagree on the length (${partial.bytes.length}, then ${total})`);
    if (offset + payload.length > total) fail(`frame at ${offset} (+${payload.length}) runs past the announced ${total} bytes`);
    if (offset !== partial.received) fail(`frame at ${offset} where ${partial.received} was expected (lost, repeated or reordered frame)`);
    partial.checksum = crc32(payload, partial.checksum);
    if (partial.checksum !== checksum) fail(`checksum mismatch at ${offset}: the message is corrupted`);
    partial.bytes.set(payload, offset);
    partial.received += payload.length;
    if (partial.received < total) return null;
    this.#partials.delete(id);
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
