import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerConv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { speedUpConv2dBackpropInput } from './conv2d-backprop-input.js';

/** A TF.js backend Disco can train on. */
export type BackendName = 'wasm' | 'webgl' | 'cpu';

export interface BackendOptions {
  /** The backend to try first (default `wasm`: the fastest here, in Node and in headless Chromium alike). */
  backend?: BackendName;
  /**
   * Browser only: the folder (URL ending in `/`) that serves tfjs-backend-wasm's `.wasm` files, e.g.
   * `/node_modules/@tensorflow/tfjs-backend-wasm/dist/`. Node finds them by itself.
   */
  wasmPaths?: string;
}

const FALLBACK_ORDER: readonly BackendName[] = ['wasm', 'webgl', 'cpu'];

/** webgl needs a canvas: never try it in Node, where it can only fail (noisily). */
function hasCanvas(): boolean {
  return typeof document !== 'undefined' || typeof OffscreenCanvas !== 'undefined';
}

/**
 * Selects the TF.js backend explicitly (never left to `tf.ready()`, which may pick a slow one): the
 * requested one, else wasm, webgl and cpu in that order, the first that initialises. Registers the
 * kernel the wasm backend lacks for training CNNs ({@link registerConv2dBackpropFilter}) and a faster
 * one for conv input gradients ({@link speedUpConv2dBackpropInput}). Cheap to call
 * again: an active backend that is the one asked for is kept.
 *
 * @returns the name of the active backend.
 * @example
 * ```ts
 * const backend = await initBackend({ wasmPaths: '/wasm/' }); // 'wasm' in any modern browser
 * ```
 */
export async function initBackend(options: BackendOptions = {}): Promise<string> {
  const wanted = options.backend ?? 'wasm';
  registerConv2dBackpropFilter('wasm');
  speedUpConv2dBackpropInput('wasm');
  if (options.wasmPaths) setWasmPaths(options.wasmPaths);
  if (tf.engine().backendName === wanted) return wanted;
  const order = [wanted, ...FALLBACK_ORDER.filter((name) => name !== wanted)];
  for (const name of order) {
    if (name === 'webgl' && !hasCanvas()) continue;
    if (await tf.setBackend(name)) {
      await tf.ready();
      return tf.getBackend();
    }
  }
  throw new Error(`no TF.js backend could be initialised (tried ${order.join(', ')})`);
}
