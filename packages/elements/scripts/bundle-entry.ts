// The entry of dist/disco.js, the script-tag bundle: registers every element (importing src/index.ts
// does) and exports what a page needs, also as `window.Disco` for pages without modules of their own:
//
//   <script type="module" src="https://example.org/disco/disco.js"></script>
//   <script type="module">import { configure } from 'https://example.org/disco/disco.js'; …</script>
//
// Left out on purpose: FakeDiscoApi and InMemoryFederation, tools for tests and stories that would
// bring TF.js onto the page's main thread (+900 kB). TF.js lives in the training worker, which the
// bundle loads from next to itself when training starts. Bundler users import @disco/elements instead.
import * as Disco from './bundle-entry.js';
import { configureDefaults } from '../src/config.js';

export {
  DiscoTaskList,
  DiscoTask,
  DiscoTrain,
  DiscoEvaluate,
  DiscoTaskForm,
  DiscoModelLibrary,
  DiscoElement,
  configure,
  getConfig,
  DiscoApiError,
  createRemoteApi,
  remoteApiFor,
  ModelStore,
  defaultModelStore,
  downloadModelFiles,
  describePrivacy,
  renderMarkdown,
} from '../src/index.js';
export type * from '../src/index.js';

// The worker and TF.js's wasm binaries sit next to this file (see scripts/tfjs-wasm.ts), wherever it is served
// from: the Disco server, a CDN, the page's own origin. `import.meta.url` is this bundle's URL once built. (The
// `new URL('./', import.meta.url)` form would be taken by Vite for an asset reference.) A page's own settings
// (`configure`, `window.DiscoConfig`, the elements' `assets-url` / `worker-url`) win over this default.
configureDefaults({ assetsUrl: import.meta.url.replace(/[^/?#]*([?#].*)?$/, '') });

declare global {
  interface Window {
    Disco: typeof Disco;
  }
}
window.Disco = Disco;
