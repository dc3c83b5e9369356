import type { ImageDecoder } from './image.js';

/**
 * Decodes an image with the platform (`createImageBitmap` and an `OffscreenCanvas`), in a page or a worker.
 * Colours are read as stored (no colour-space conversion, no premultiplied alpha), as RGBA.
 */
export const browserImageDecoder: ImageDecoder = async (bytes) => {
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  try {
    const { width, height } = bitmap;
    const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('no 2D canvas context');
    context.drawImage(bitmap, 0, 0);
    return { width, height, channels: 4, data: context.getImageData(0, 0, width, height).data };
  } finally {
    bitmap.close();
  }
};
