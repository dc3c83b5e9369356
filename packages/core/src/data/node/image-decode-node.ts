import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import type { ImageDecoder } from '../image.js';
import { imageFormat } from '../image.js';

/** Decodes PNG (pngjs) and JPEG (jpeg-js) images in Node, as RGBA. */
// eslint-disable-next-line @typescript-eslint/require-await -- async: an image that fails to decode rejects, as with the browser decoder
export const nodeImageDecoder: ImageDecoder = async (bytes) => {
  const format = imageFormat(bytes);
  if (format === 'png') {
    const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
  }
  if (format === 'jpeg') {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: image.width, height: image.height, channels: 4, data: image.data };
  }
  throw new Error('not a PNG or JPEG image');
};
