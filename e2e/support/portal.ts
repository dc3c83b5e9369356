// What the end-to-end tests share: the kit and the portal built fresh from the sources into a temporary
// folder (the way `npm start` builds them), the real API server serving it, and headless Chromium.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { holdOut, parseTabular, titanic, womenSurviveAccuracy } from '@disco/core';
import { startServer, type RunningServer, type ServerOptions } from '@disco/api';
import type {} from '@disco/elements'; // types the elements' tags and disco-* events inside page functions
import { withLock } from './lock.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A temporary folder, removed by `cleanup()`. */
export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'disco-e2e-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true', STORYBOOK_DISABLE_TELEMETRY: '1' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

/** Builds the script-tag bundle (disco.js, its worker, the wasm binaries; no source maps) into `outDir`. */
export function buildKit(outDir: string): void {
  run(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--sourcemap', 'false', '--logLevel', 'warn'], path.join(root, 'packages', 'elements'));
}

/** The newest modification time of the files under `dir`, skipping outputs (node_modules, dist, dot folders, the manifest). */
function newest(dir: string): number {
  let time = 0; // files only: a folder's own time changes when a build writes into it
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'custom-elements.json'].includes(entry.name) || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return time;
}

/**
 * `out` built by `build` from the current sources: rebuilt only when one of `inputs` changed since `marker` (a
 * file of the build) was written, so that the test files of one run share one build (and wait for it).
 */
function builtOnce(out: string, marker: string, inputs: string[], build: () => void): string {
  return withLock(path.basename(out), () => {
    const built = existsSync(path.join(out, marker)) ? statSync(path.join(out, marker)).mtimeMs : 0;
    if (inputs.some((input) => (statSync(input).isDirectory() ? newest(input) : statSync(input).mtimeMs) > built)) build();
    return out;
  });
}

/** The kit built from the current sources, in e2e/dist/kit (git-ignored), once per run (see builtOnce). */
export function currentKit(): string {
  const kit = path.join(root, 'e2e', 'dist', 'kit');
  const inputs = [path.join(root, 'packages', 'elements'), path.join(root, 'packages', 'core', 'src'), path.join(root, 'package-lock.json')];
  return builtOnce(kit, 'disco.js', inputs, () => buildKit(kit));
}

/**
 * Storybook built offline from the current sources (the elements' manifest first: the stories import it), in
 * e2e/dist/storybook (git-ignored), once per run: the stories test and the small-screen test share it.
 */
export function currentStorybook(): string {
  const out = path.join(root, 'e2e', 'dist', 'storybook');
  const inputs = [path.join(root, 'stories'), path.join(root, 'packages', 'elements'), path.join(root, 'packages', 'core', 'src'), path.join(root, 'package-lock.json')];
  return builtOnce(out, 'index.json', inputs, () => {
    run('npm', ['run', '--silent', 'manifest', '--prefix', path.join(root, 'packages', 'elements')], root);
    run(path.join(root, 'node_modules', '.bin', 'storybook'), ['build', '--disable-telemetry', '--quiet', '-o', out], path.join(root, 'stories'));
  });
}

/** Assembles the demo portal with the kit of `kitDir` into `outDir`, as `npm start` does into demo/dist. */
export function buildDemo(kitDir: string, outDir: string): void {
  run(process.execPath, [path.join(root, 'demo', 'build.mjs'), '--kit', kitDir, '--out', outDir], root);
}

/** The API server on a free loopback port with a fresh SQLite file, serving `staticDir`. */
export async function startPortal(dir: string, staticDir: string, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port: 0, dbPath: path.join(dir, 'disco.sqlite'), staticDir, adminToken: 'e2e-admin-token', ...options });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
  });
}

/**
 * Trains Titanic with the page's `<disco-train>` (its task loaded from the server) on the whole CSV, and
 * returns the final accuracy on the element's validation split (20 %, seed 42: the seeded test split the
 * other Titanic tests score), the women-survive rule's accuracy on the same rows (0.813), and the end event's detail.
 */
export async function trainTitanicInPage(page: Page): Promise<{ accuracy: number; rule: number; detail: unknown }> {
  const csv = readFileSync(path.join(root, 'packages', 'core', 'assets', 'titanic', 'titanic.csv'), 'utf8');
  const detail = await page.evaluate(async (text) => {
    await customElements.whenDefined('disco-train');
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
  const rule = womenSurviveAccuracy(holdOut(parseTabular(csv, titanic), titanic.training.validationSplit, titanic.training.seed).validation!);
  return { accuracy: (detail as { metrics: { accuracy: number } }).metrics.accuracy, rule, detail };
}
