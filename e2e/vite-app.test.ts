// A bundler user's app outside the monorepo: `npm pack` of @disco/core, @disco/client and @disco/elements,
// installed from those tarballs (offline, as e2e/packed.test.ts does) with Vite into an empty folder; two
// pages, one importing only `@disco/elements/train.js`, one the full `@disco/elements`; `vite build`; the
// built output served by a Disco server, and Titanic trained in Chromium from the built page.
//
// What the app needs besides the imports (the README's "Bundler users" says the same):
// - `worker: { format: 'es' }`: the training worker is a module worker (Vite's default, iife, cannot split it);
// - `resolve.alias` of simple-peer to its browser build (its package entry needs Node's `events`/`global`);
// - TF.js's `.wasm` binaries served somewhere (here copied into public/tfjs-wasm/) and `configure({ wasmPaths })`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '@disco/api';
import type {} from '@disco/elements'; // types the elements' tags and disco-* events inside page functions
import { withLock } from './support/lock.js';
import { monorepoLock, packInto, runOutside } from './support/outside.js';
import { launchChromium, root, scratchDir, startPortal, trainTitanicInPage } from './support/portal.js';

const packages = ['core', 'client', 'elements'];
const scratch = scratchDir();
const tarballs = path.join(scratch.dir, 'tarballs');
const app = path.join(scratch.dir, 'app');
let server: RunningServer;
let browser: Browser;

const files: Record<string, string> = {
  'vite.config.js': `import { defineConfig } from 'vite';
export default defineConfig({
  resolve: { alias: [{ find: /^simple-peer$/, replacement: 'simple-peer/simplepeer.min.js' }] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, rollupOptions: { input: { index: 'index.html', full: 'full.html' } } },
});
`,
  'index.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Train only</title>
<script type="module" src="/train-only.js"></script></head>
<body><h1>My app</h1><disco-train task-id="titanic" scheme="local" epochs="2"></disco-train></body></html>
`,
  'train-only.js': `import { configure } from '@disco/elements/config.js';
import '@disco/elements/train.js';
configure({ wasmPaths: new URL('tfjs-wasm/', document.baseURI).href });
document.querySelector('disco-train').server = location.origin;
`,
  'full.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Everything</title>
<script type="module" src="/full.js"></script></head>
<body><disco-task-list></disco-task-list></body></html>
`,
  'full.js': `import { configure } from '@disco/elements';
configure({ wasmPaths: new URL('tfjs-wasm/', document.baseURI).href });
document.querySelector('disco-task-list').server = location.origin;
`,
};

before(async () => {
  mkdirSync(tarballs);
  mkdirSync(path.join(app, 'public', 'tfjs-wasm'), { recursive: true });
  // The packages' dist/ (JavaScript and declarations) from the current sources. A type error is the
  // typecheck's to report, not this test's: `tsc -b` (TS >= 5.6) still writes the JavaScript.
  withLock('packages', () => spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/client', 'packages/elements'], { cwd: root }));
  // Vite at the monorepo's version, like every other dependency.
  packInto(packages, tarballs, app, { type: 'module', devDependencies: { vite: monorepoLock()['node_modules/vite'].version } });
  runOutside('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(app, name), text);
  const wasm = path.join(app, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const name of readdirSync(wasm).filter((f) => f.endsWith('.wasm'))) copyFileSync(path.join(wasm, name), path.join(app, 'public', 'tfjs-wasm', name));
  runOutside(process.execPath, [path.join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app, { VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' });
  server = await startPortal(scratch.dir, path.join(app, 'dist'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  scratch.cleanup();
});

test('the app installs the tarballs, not the monorepo, and builds with Vite', () => {
  for (const p of packages) {
    const installed = path.join(app, 'node_modules', '@disco', p);
    assert.ok(existsSync(path.join(installed, 'package.json')), `@disco/${p} is installed`);
    assert.ok(!realpathSync(installed).startsWith(root + path.sep), `@disco/${p} is a copy, not a link into the monorepo`);
  }
  const assets = readdirSync(path.join(app, 'dist', 'assets'));
  assert.ok(assets.some((f) => /^training\.worker-.*\.js$/.test(f)), `Vite emitted the training worker: ${assets.join(', ')}`);
});

test('a page importing @disco/elements/train.js registers only <disco-train> and trains Titanic', { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  const fetched: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('response', (response) => response.ok() && fetched.push(new URL(response.url()).pathname));
  page.on('worker', (worker) => fetched.push(new URL(worker.url()).pathname));
  await page.goto(`${server.url}/index.html`);

  const registered = await page.evaluate(async () => {
    await customElements.whenDefined('disco-train');
    return ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library'].filter((tag) => customElements.get(tag));
  });
  const { accuracy, rule, detail } = await trainTitanicInPage(page);

  assert.deepEqual(registered, ['disco-train']);
  // The element's validation split of the file (20 %, seed 42), where the women-survive rule scores 0.813.
  assert.ok(accuracy >= 0.8 && accuracy > rule, `accuracy ${accuracy}, women-survive rule ${rule}: ${JSON.stringify(detail)}`);
  assert.ok(fetched.some((p) => /^\/assets\/training\.worker-.*\.js$/.test(p)), fetched.join('\n'));
  assert.ok(fetched.some((p) => /^\/tfjs-wasm\/tfjs-backend-wasm(-simd)?\.wasm$/.test(p)), `the wasm backend's binary was fetched:\n${fetched.join('\n')}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a page importing @disco/elements registers every element and lists the server\'s tasks', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.url}/full.html`);
  const registered = await page.evaluate(async () => {
    await customElements.whenDefined('disco-task-list');
    return ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library'].filter((tag) => customElements.get(tag));
  });
  await page.locator('disco-task-list').getByText('Titanic', { exact: false }).first().waitFor({ timeout: 20_000 });

  assert.deepEqual(registered, ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library']);
  assert.deepEqual(errors, []);
  await page.close();
});
