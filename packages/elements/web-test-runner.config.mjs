import { spawn } from 'node:child_process';
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

/**
 * A real Disco server for the tests that need one (decentralized training): `GET /__disco/server.json`
 * starts `scripts/test-server.ts` on first use (a free port, a temporary SQLite database) and answers
 * `{ url }`; the server stops with the test run. Tests that do not ask for it do not pay for it.
 */
function discoServer() {
  let child;
  let started;
  const start = () =>
    (started ??= new Promise((resolve, reject) => {
      child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(packageDir, 'scripts', 'test-server.ts')], {
        cwd: packageDir,
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const line = output.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.on('exit', (code) => reject(new Error(`the test server exited (${code}) before it listened`)));
    }));
  return {
    name: 'disco-server',
    async serve(context) {
      if (context.path !== '/__disco/server.json') return undefined;
      return { body: JSON.stringify(await start()), type: 'json' };
    },
    serverStop() {
      child?.stdin.end();
      child?.kill('SIGTERM');
    },
  };
}

export default wtrConfig({
  packageDir,
  files: 'src/**/*.test.ts',
  deps: ['papaparse'],
  plugins: [tsWorkers, discoServer()],
});
