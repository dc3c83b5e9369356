import { fileURLToPath } from 'node:url';
import { wtrConfig } from '../../tools/wtr-config.mjs';

export default wtrConfig({
  packageDir: fileURLToPath(new URL('.', import.meta.url)),
  files: 'src/**/*.browser.test.ts',
  // papaparse is CommonJS (UMD): pre-bundled like TF.js so that the data loaders import in the browser.
  deps: ['papaparse'],
});
