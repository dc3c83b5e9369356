// Vite plugin: writes `<file>.br` and `<file>.gz` beside the bundle, its worker and the wasm binaries, so that
// `disco serve --static` (sirv) sends them compressed without compressing at every request.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** What is worth compressing: scripts and wasm (source maps are fetched by devtools only). */
const COMPRESSIBLE = /\.(js|mjs|css|wasm)$/;

/**
 * Compresses one file into `.br` and `.gz`. Brotli quality 9, not 11: 1 s instead of 20 s for the kit (every
 * end-to-end run builds it) for a tenth more bytes.
 */
export function precompressFile(file: string): void {
  const bytes = readFileSync(file);
  writeFileSync(`${file}.br`, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }));
  writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
}

export function precompress(): Plugin {
  return {
    name: 'disco:precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir ?? path.dirname(options.file ?? '');
      for (const fileName of Object.keys(bundle)) if (COMPRESSIBLE.test(fileName)) precompressFile(path.join(dir, fileName));
    },
  };
}
