// Vite plugin: puts tfjs-backend-wasm's binaries next to the bundle (dist/*.wasm), where the bundle
// looks for them at run time (see scripts/bundle-entry.ts). The names stay unhashed because TF.js asks
// for them by name.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'vite';

/** Every binary TF.js may ask for: plain, SIMD, and threaded SIMD (only used on cross-origin-isolated pages). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** The folder of the installed tfjs-backend-wasm's binaries. */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  // The package has no `exports` map, so its package.json resolves; its main file is the Node build.
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

export function tfjsWasm(): Plugin {
  return {
    name: 'disco:tfjs-wasm',
    apply: 'build',
    generateBundle() {
      for (const fileName of WASM_FILES) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(path.join(wasmDir(), fileName)) });
      }
    },
  };
}
