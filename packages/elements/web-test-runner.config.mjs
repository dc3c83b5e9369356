import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wtrConfig } from '../../tools/wtr-config.mjs';

const packageDir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Module workers are created from `new URL('./x.worker.js', import.meta.url)`, the URL a bundler sees and
 * rewrites. The dev server only has `x.worker.ts`: answer such a request with a one-line module that
 * imports the TypeScript file, which the esbuild plugin then serves as JavaScript.
 */
const tsWorkers = {
  name: 'ts-workers',
  serve(context) {
    if (!context.path.endsWith('.worker.js')) return undefined;
    const file = path.join(root, decodeURIComponent(context.path));
    const ts = file.replace(/\.js$/, '.ts');
    if (existsSync(file) || !existsSync(ts)) return undefined;
    return { body: `import './${path.basename(ts)}';\n`, type: 'js' };
  },
};

export default wtrConfig({
  packageDir,
  files: 'src/**/*.test.ts',
  deps: ['papaparse'],
  plugins: [tsWorkers],
});
