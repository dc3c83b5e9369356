// Where the training worker's script is, and how to start it from any page: a module worker must be
// same-origin with the page, so a script served from another origin (the Disco server, a CDN) is started
// through a same-origin `blob:` module that imports it.
import { getConfig, type DiscoConfig } from '../config.js';

/** The file name of the worker in the script-tag kit (dist/), next to disco.js and the `.wasm` files. */
export const KIT_WORKER_FILE = 'disco-training.worker.js';

/** The settings that place the worker and the wasm binaries: an element's own, over the page-wide ones. */
export type AssetSettings = Pick<DiscoConfig, 'workerUrl' | 'assetsUrl' | 'wasmPaths'>;

/**
 * The worker as this module's bundler emitted it. Written as `new Worker(new URL(…, import.meta.url))`, the form
 * Vite and other bundlers recognise, emit and rewrite; the `Worker` here is a local stand-in that only records
 * the URL, so that {@link startTrainingWorker} decides how to start it.
 */
function emittedWorkerUrl(): URL {
  let url: URL | undefined;
  const Worker = class {
    constructor(at: URL, _options: WorkerOptions) {
      url = at;
    }
  };
  new Worker(new URL('./training.worker.js', import.meta.url), { type: 'module' });
  return url!;
}

/** A settings' URL made absolute against the page (a relative `assetsUrl` is relative to the page, as in HTML). */
function absolute(url: string, base: string): URL {
  return new URL(url, base);
}

/** The folder form of a URL: ends in `/`. */
function folder(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * The URLs of the worker script and of the folder of the `.wasm` files: `workerUrl` wins, then
 * `assetsUrl` (the folder of the kit's files: `disco-training.worker.js` and the `.wasm` binaries), then the
 * worker as the bundler emitted it. `wasmPaths` wins over `assetsUrl`; without either, undefined (TF.js looks
 * next to the worker script, which fails for a `blob:` shim: {@link startTrainingWorker} then uses the
 * worker script's folder).
 */
export function resolveAssets(settings: AssetSettings, base: string = document.baseURI, emitted: () => URL = emittedWorkerUrl): { worker: URL; wasmPaths?: string } {
  const assets = settings.assetsUrl ? absolute(folder(settings.assetsUrl), base) : undefined;
  const worker = settings.workerUrl ? absolute(settings.workerUrl, base) : assets ? new URL(KIT_WORKER_FILE, assets) : emitted();
  const wasmPaths = settings.wasmPaths ? absolute(folder(settings.wasmPaths), base).href : assets?.href;
  return { worker, ...(wasmPaths !== undefined && { wasmPaths }) };
}

/** How to start the worker at `url` from a page of origin `pageOrigin`: directly, or through a module that imports it. */
export function workerEntry(url: URL, pageOrigin: string): { direct: true } | { direct: false; shim: string } {
  if (url.origin === pageOrigin || url.protocol === 'blob:' || url.protocol === 'data:') return { direct: true };
  return { direct: false, shim: `import ${JSON.stringify(url.href)};\n` };
}

/** A worker that could not start; `message` names the cause and what to change. `code`: `worker`. */
export class WorkerStartError extends Error {
  readonly code = 'worker';
  override readonly name = 'WorkerStartError';
}

/**
 * Starts the training worker at `url`; a worker on another origin starts through a same-origin `blob:`
 * module. Throws {@link WorkerStartError} when the browser refuses at once; a script that fails to load
 * later shows as the worker's `error` event (see {@link explainWorkerFailure}).
 */
export function startTrainingWorker(url: URL, pageOrigin: string = location.origin): { worker: Worker; release(): void } {
  const entry = workerEntry(url, pageOrigin);
  const options: WorkerOptions = { type: 'module', name: 'disco-training' };
  let shimUrl: string | undefined;
  try {
    if (entry.direct) return { worker: new Worker(url, options), release: () => undefined };
    shimUrl = URL.createObjectURL(new Blob([entry.shim], { type: 'text/javascript' }));
    const worker = new Worker(shimUrl, options);
    return { worker, release: () => URL.revokeObjectURL(shimUrl!) };
  } catch (error) {
    if (shimUrl) URL.revokeObjectURL(shimUrl);
    throw new WorkerStartError(
      `The training worker could not start: the browser refused ${entry.direct ? url.href : `a blob: worker importing ${url.href}`} (${(error as Error).message}). ` +
        (entry.direct ? '' : `A page whose Content-Security-Policy sets worker-src must allow blob: there. `) +
        'Set workerUrl or assetsUrl (see the README, "Embedding the kit") when the kit is served elsewhere.',
      { cause: error },
    );
  }
}

/**
 * Why the worker at `url` did not start, once its `error` event came: the page's Content-Security-Policy
 * (a `securitypolicyviolation` seen meanwhile), the script's HTTP status, or that it could not be fetched.
 */
export async function explainWorkerFailure(url: URL, violation: SecurityPolicyViolationEvent | undefined, fetcher: typeof fetch = fetch): Promise<WorkerStartError> {
  const start = `The training worker could not start from ${url.href}`;
  if (violation) {
    return new WorkerStartError(
      `${start}: the page's Content-Security-Policy blocked ${violation.blockedURI || 'it'} (${violation.effectiveDirective}). ` +
        `Allow blob: in worker-src and ${url.origin} in script-src (with 'wasm-unsafe-eval') and connect-src.`,
    );
  }
  let status: number | undefined;
  try {
    status = (await fetcher(url.href, { method: 'GET', cache: 'no-store' })).status;
  } catch {
    // not fetchable from here either: CORS, the network, or connect-src
  }
  if (status !== undefined && status >= 400) return new WorkerStartError(`${start}: the server answered HTTP ${status}. Is the kit served there? Set workerUrl or assetsUrl to where it is.`);
  return new WorkerStartError(
    `${start}: its script failed to load or to run. Check that it is served with CORS for this page (--cors ${location.origin}) and that the page's Content-Security-Policy allows it.`,
  );
}

/**
 * An element's own settings over the page-wide ones (see `getConfig`); empty strings are unset. An element's
 * `assetsUrl` places both the worker and the wasm binaries, over the page's `workerUrl` and `wasmPaths`.
 */
export function assetSettings(own: AssetSettings = {}): AssetSettings {
  const config = getConfig();
  const ownFolder = Boolean(own.assetsUrl);
  return {
    workerUrl: own.workerUrl || (ownFolder ? undefined : config.workerUrl),
    assetsUrl: own.assetsUrl || config.assetsUrl,
    wasmPaths: own.wasmPaths || (ownFolder ? undefined : config.wasmPaths),
  };
}

/** A started worker, with the URL of its script and the wasm folder to use when the settings name none. */
export interface StartedWorker {
  worker: Worker;
  url: URL;
  /** The folder of the `.wasm` files: the settings', else, for a worker started through a shim, the script's folder. */
  wasmPaths?: string;
  release(): void;
}

/** Resolves the settings (an element's own over the page-wide ones) and starts the worker. */
export function startConfiguredWorker(own: AssetSettings = {}): StartedWorker {
  const { worker: url, wasmPaths } = resolveAssets(assetSettings(own));
  const started = startTrainingWorker(url);
  const shimmed = !workerEntry(url, location.origin).direct;
  return { ...started, url, wasmPaths: wasmPaths ?? (shimmed ? new URL('./', url).href : undefined) };
}
