// The entry of dist/disco.js, the script-tag bundle: registers every element (src/index.ts does) and
// exports the package's API, also as `window.Disco` for pages without modules of their own:
//
//   <script type="module" src="https://example.org/disco/disco.js"></script>
//   <script type="module">import { configure } from 'https://example.org/disco/disco.js'; …</script>
import * as Disco from '../src/index.js';

// TF.js's wasm binaries sit next to this file (see scripts/tfjs-wasm.ts), wherever it is served from.
// `import.meta.url` is this bundle's URL once built. (The `new URL('./', import.meta.url)` form would be
// taken by Vite for an asset reference.) A page's own `configure({ wasmPaths })` after loading wins.
Disco.configure({ wasmPaths: import.meta.url.replace(/[^/?#]*([?#].*)?$/, '') });

declare global {
  interface Window {
    Disco: typeof Disco;
  }
}
window.Disco = Disco;

export * from '../src/index.js';
