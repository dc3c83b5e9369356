import type { BackendName } from '@disco/core';

/** Page-wide settings of the elements. */
export interface DiscoConfig {
  /**
   * The folder (URL ending in `/`) serving tfjs-backend-wasm's `.wasm` files. Default: TF.js's own
   * default, the folder of the worker script, which is where the script-tag bundle puts them.
   */
  wasmPaths?: string;
  /** The TF.js backend to train on (default `wasm`, falling back to webgl and cpu). */
  backend?: BackendName;
}

const config: DiscoConfig = {};

/**
 * Sets page-wide settings; an element's own attributes (e.g. `wasm-path`) win over them.
 *
 * ```html
 * <script type="module">
 *   import { configure } from '@disco/elements';
 *   configure({ wasmPaths: '/static/tfjs-wasm/' });
 * </script>
 * ```
 * With the script-tag bundle: `Disco.configure({ wasmPaths: '/static/tfjs-wasm/' })`.
 */
export function configure(settings: DiscoConfig): void {
  Object.assign(config, settings);
}

/** The current page-wide settings (a copy). */
export function getConfig(): DiscoConfig {
  return { ...config };
}
