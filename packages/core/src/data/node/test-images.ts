// Test helpers (not exported from the package): images generated in memory, in the exact formats.
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

/** An RGBA image whose pixel (x, y) is `color(x, y)`. */
export function rgba(width: number, height: number, color: (x: number, y: number) => [number, number, number]): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = color(x, y);
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  return data;
}

/** A PNG file of `width × height` pixels coloured by `color`. */
export function png(width: number, height: number, color: (x: number, y: number) => [number, number, number] = () => [0, 0, 0]): Uint8Array {
  const image = new pngjs.PNG({ width, height });
  image.data = Buffer.from(rgba(width, height, color));
  return new Uint8Array(pngjs.PNG.sync.write(image));
}

/** A JPEG file (quality 100) of `width × height` pixels coloured by `color`. */
export function jpg(width: number, height: number, color: (x: number, y: number) => [number, number, number] = () => [0, 0, 0]): Uint8Array {
  return new Uint8Array(jpeg.encode({ width, height, data: rgba(width, height, color) }, 100).data);
}
