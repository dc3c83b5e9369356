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
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { holdOut, parseTabular, titanic, womenSurviveAccuracy } from '@disco/core';
import type { RunningServer } from '@disco/api';
import type {} from '@disco/elements'; // types the elements' tags and disco-* events inside page functions
import { launchChromium, root, scratchDir, startPortal } from './support/portal.js';

const packages = ['core', 'client', 'elements'];
const scratch = scratchDir();
const tarballs = path.join(scratch.dir, 'tarballs');
const app = path.join(scratch.dir, 'app');
let server: RunningServer;
let browser: Browser;

/** The environment without what `npm test` or `npm run` set for the monorepo's own package. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_NO_WARNINGS: '1', VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' };
  for (const key of Object.keys(env)) {
    if (/^npm_(package|lifecycle)_|^npm_config_(local_prefix|workspaces?|include_workspace_root)$|^INIT_CWD$/i.test(key)) delete env[key];
  }
  return env;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 240_000 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed (${result.status} ${result.signal ?? ''}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

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
  spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/client', 'packages/elements'], { cwd: root });
  run('npm', ['pack', '--silent', '--pack-destination', tarballs, ...packages.flatMap((p) => ['-w', `packages/${p}`])], root);
  const packed = readdirSync(tarballs);
  const dependencies = Object.fromEntries(
    packages.map((p) => {
      const file = packed.find((f) => f.startsWith(`disco-${p}-`) && f.endsWith('.tgz'));
      assert.ok(file, `npm pack made no tarball for @disco/${p} (${packed.join(', ')})`);
      return [`@disco/${p}`, `file:${path.join(tarballs, file)}`];
    }),
  );
  // Vite at the monorepo's version; the lockfile is the monorepo's minus its workspaces (see packed.test.ts).
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean; version?: string }> };
  const locked = Object.entries(lock.packages).filter(([key, entry]) => key.startsWith('node_modules/') && !key.startsWith('node_modules/@disco/') && !entry.link);
  const manifest = { name: 'disco-vite-app', private: true, type: 'module', dependencies, devDependencies: { vite: lock.packages['node_modules/vite'].version } };
  writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    path.join(app, 'package-lock.json'),
    JSON.stringify({ ...manifest, lockfileVersion: 3, requires: true, packages: { '': manifest, ...Object.fromEntries(locked) } }, null, 2),
  );
  run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(app, name), text);
  const wasm = path.join(app, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const name of readdirSync(wasm).filter((f) => f.endsWith('.wasm'))) copyFileSync(path.join(wasm, name), path.join(app, 'public', 'tfjs-wasm', name));
  run(process.execPath, [path.join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app);
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
  const csv = readFileSync(path.join(root, 'packages', 'core', 'assets', 'titanic', 'titanic.csv'), 'utf8');

  const registered = await page.evaluate(async () => {
    await customElements.whenDefined('disco-train');
    return ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library'].filter((tag) => customElements.get(tag));
  });
  const detail = await page.evaluate(async (text) => {
    const train = document.querySelector('disco-train')!;
    for (const since = Date.now(); !train.loadedTask; await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() - since > 20_000) throw new Error('the task did not load from the server');
    }
    const ended = new Promise<unknown>((resolve, reject) => {
      train.addEventListener('disco-train-end', (event) => resolve(event.detail));
      train.addEventListener('disco-error', (event) => reject(new Error(event.detail.message)));
    });
    train.files = [new File([text], 'titanic.csv', { type: 'text/csv' })];
    await train.filesChecked;
    await train.start();
    return ended;
  }, csv);

  assert.deepEqual(registered, ['disco-train']);
  // The element's validation split of the file (20 %, seed 42), where the women-survive rule scores 0.813.
  const rule = womenSurviveAccuracy(holdOut(parseTabular(csv, titanic), titanic.training.validationSplit, titanic.training.seed).validation!);
  const { accuracy } = (detail as { metrics: { accuracy: number } }).metrics;
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
