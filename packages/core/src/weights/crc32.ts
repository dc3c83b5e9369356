// CRC-32 (IEEE 802.3). In Node (20.15 and later) zlib's own crc32, several GB/s, 7× the JavaScript below on a
// 4 MB update (1.5 ms instead of 10.6 on the bench machine): the server checks every update's payload with it.
// Elsewhere (browsers), slicing-by-8: eight table lookups per eight bytes instead of one per byte, about four
// times faster than the byte-wise loop.
const tables = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // Table k: the CRC of byte n followed by k zero bytes.
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();

type Crc32 = (bytes: Uint8Array, previous?: number) => number;

/**
 * Node's `zlib.crc32` when this runtime has it, reached through `process.getBuiltinModule` rather than an
 * import, so that core's main entry stays free of `node:*` imports and runs unchanged in browsers.
 */
const native: Crc32 | undefined = (() => {
  try {
    const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const zlib = node?.getBuiltinModule?.('node:zlib') as { crc32?: Crc32 } | undefined;
    return typeof zlib?.crc32 === 'function' ? zlib.crc32 : undefined;
  } catch {
    return undefined;
  }
})();

/** Below this many bytes the JavaScript loop is as fast as a call into zlib. */
const NATIVE_FROM_BYTES = 256;

/**
 * CRC-32 of `bytes`, as an unsigned 32-bit integer. `previous` continues a running CRC:
 * `crc32(b, crc32(a))` is the CRC of `a` followed by `b`, so that long messages can be checked piece by piece.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  if (native && bytes.length >= NATIVE_FROM_BYTES) return native(bytes, previous);
  return crc32Sliced(bytes, previous);
}

/** The portable slicing-by-8 CRC-32 (what browsers run); {@link crc32} takes Node's zlib when there is one. */
export function crc32Sliced(bytes: Uint8Array, previous = 0): number {
  const t = tables;
  let crc = (previous ^ 0xffffffff) >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const lo = (crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    crc =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
