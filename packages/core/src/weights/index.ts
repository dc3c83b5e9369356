export * from './flat.js';
export * from './codec.js';
export * from './quantize.js';
export { crc32 } from './crc32.js';
