// Builds dist/disco.js, the script-tag bundle: every element, Lit, @disco/core and TF.js in one ES module,
// plus the worker of <disco-train> (dist/disco-*.worker.js) and TF.js's wasm binaries next to it.
// The package's ES entry for bundler users (dist/index.js + .d.ts) is tsc's output in the same folder.
import { defaultClientConditions, defineConfig } from 'vite';
import { precompress } from './scripts/precompress.js';
import { tfjsWasm } from './scripts/tfjs-wasm.js';

// Workspace packages resolve to their TypeScript sources. simple-peer's package entry needs Node's
// `events`/`global` (TOOLCHAIN §6); its browser build does not.
const resolve = {
  conditions: ['source', ...defaultClientConditions],
  alias: [{ find: /^simple-peer$/, replacement: 'simple-peer/simplepeer.min.js' }],
};

export default defineConfig({
  // Relative URLs: the worker is found from `import.meta.url` of disco.js, wherever the bundle is served.
  base: './',
  resolve,
  build: {
    outDir: 'dist',
    emptyOutDir: false, // tsc's dist/index.js and .d.ts live here too (TOOLCHAIN §9, gotcha 3)
    target: 'es2022',
    // An app-style build rather than `build.lib`: Vite does not minify whitespace in ES libraries,
    // which would add a quarter to a file meant for a script tag.
    minify: 'oxc',
    sourcemap: true,
    chunkSizeWarningLimit: 2048, // TF.js alone is about 1 MB
    rolldownOptions: {
      input: { disco: 'scripts/bundle-entry.ts' },
      preserveEntrySignatures: 'exports-only',
      output: { entryFileNames: '[name].js', codeSplitting: false, comments: { legal: false } },
    },
  },
  worker: {
    format: 'es',
    // Vite does not pass `build.minify: 'oxc'` on to workers unless told here; license comments alone add 800 kB.
    rolldownOptions: { output: { entryFileNames: 'disco-[name].js', codeSplitting: false, minify: true, comments: { legal: false } } },
  },
  plugins: [tfjsWasm(), precompress()],
});
