import { fileURLToPath } from 'node:url';
import { wtrConfig } from '../../tools/wtr-config.mjs';
import { peersPlugin } from './src/peer/testing/wtr-peers-plugin.mjs';

export default wtrConfig({
  packageDir: fileURLToPath(new URL('.', import.meta.url)),
  files: 'src/**/*.browser.test.ts',
  // papaparse is CommonJS (UMD): pre-bundled like TF.js so that the data loaders import in the browser.
  deps: ['papaparse'],
  // Decentralized training: a Disco server and a Node peer for the page's peers (executeServerCommand).
  plugins: [peersPlugin()],
});
