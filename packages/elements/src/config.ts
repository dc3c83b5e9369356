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
  /**
   * The URL of the training worker's script, for pages that pin their assets. Default: the worker next to
   * `disco.js` (the script-tag bundle), or where the bundler emitted it. A worker on another origin than the
   * page starts through a same-origin `blob:` module that imports it.
   */
  workerUrl?: string;
  /**
   * The folder (URL ending in `/`) serving the script-tag kit's files: `disco-training.worker.js` and the
   * `.wasm` binaries. Default: the folder of `disco.js`. `workerUrl` and `wasmPaths` win over it.
   */
  assetsUrl?: string;
}

/** The script-tag bundle's own defaults (its folder), under everything a page sets. */
const defaults: DiscoConfig = {};
const config: DiscoConfig = {};

declare global {
  /** Page-wide settings set before the kit loads: `<script>window.DiscoConfig = { assetsUrl: '/disco/' }</script>`. */
  var DiscoConfig: DiscoConfig | undefined;
}

/**
 * Sets page-wide settings; an element's own attributes (e.g. `wasm-path`, `assets-url`) win over them, and
 * they win over `window.DiscoConfig` (settings a page sets before the kit loads) and the bundle's defaults.
 *
 * ```html
 * <script type="module">
 *   import { configure } from '@disco/elements';
 *   configure({ wasmPaths: '/static/tfjs-wasm/' });
 * </script>
 * ```
 * With the script-tag bundle: `Disco.configure({ wasmPaths: '/static/tfjs-wasm/' })`, or, before it loads,
 * `<script>window.DiscoConfig = { assetsUrl: 'https://cdn.example/disco/1.0/' }</script>`.
 */
export function configure(settings: DiscoConfig): void {
  Object.assign(config, settings);
}

/**
 * The current page-wide settings (a copy): those of {@link configure}, over `window.DiscoConfig`, over the
 * script-tag bundle's defaults.
 */
export function getConfig(): DiscoConfig {
  return { ...defaults, ...globalThis.DiscoConfig, ...config };
}

/** Sets the bundle's defaults (the folder it was loaded from); a page's settings win over them. Internal. */
export function configureDefaults(settings: DiscoConfig): void {
  Object.assign(defaults, settings);
}
