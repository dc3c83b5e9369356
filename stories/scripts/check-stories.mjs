#!/usr/bin/env node
// Loads every story of a built Storybook (storybook-static/) in headless Chromium, waits for its play
// function, and fails on a story that errors, a page error or a request outside the machine.
//   npm run build-storybook && node scripts/check-stories.mjs [--dir storybook-static] [--server <url>] [--screenshots <dir>] [--concurrency n] [id-part…]
// The `--live` stories need a running `disco serve` (with `--cors '*' --admin-token story-admin`): give its
// URL with --server, and they get it as their iframe's `disco-server` parameter; without it they are skipped.
import http from 'node:http';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, server: { type: 'string' }, screenshots: { type: 'string' }, concurrency: { type: 'string' } } });
const dir = path.resolve(values.dir ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'storybook-static'));
if (!existsSync(path.join(dir, 'index.json'))) {
  console.error(`${dir} has no index.json: run \`npm run build-storybook\` first.`);
  process.exit(1);
}
const discoServer = values.server ? new URL(values.server).origin : undefined;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.woff2': 'font/woff2' };
const server = http.createServer((req, res) => {
  const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  // Hashed assets and the wasm binaries are cached, so that each story's page does not parse TF.js anew.
  const immutable = /^\/(assets|wasm)\//.test(file.slice(dir.length));
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const isLive = (story) => /--live(-|$)/.test(story.id);
const all = Object.values(JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')).entries).filter((e) => e.type === 'story');
const chosen = all.filter((e) => positionals.length === 0 || positionals.some((p) => e.id.includes(p)));
const stories = chosen.filter((e) => discoServer || !isLive(e));
const skipped = chosen.length - stories.length;
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
});
// One context for all pages: they share the HTTP cache (and the code cache); each story has its own IndexedDB database.
const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
// What the preview's channel says went wrong: a play function that threw, errors while it played, a story
// that threw while rendering (none of which ends the render phase other than `finished`).
const storyEvents = { playFunctionThrewException: 'play function threw', unhandledErrorsWhilePlaying: 'errors while playing', storyThrewException: 'story threw', storyErrored: 'story errored', storyMissing: 'story missing' };
await context.addInitScript((events) => {
  const problems = (window.__storyProblems = []);
  const text = (detail) => [detail].flat().map((d) => (typeof d === 'string' ? d : `${d?.message ?? d?.title ?? ''} ${d?.description ?? ''}`.trim() || JSON.stringify(d))).join('; ');
  let channel;
  Object.defineProperty(window, '__STORYBOOK_ADDONS_CHANNEL__', {
    configurable: true,
    get: () => channel,
    set: (value) => {
      channel = value;
      for (const [event, label] of Object.entries(events)) value.on(event, (detail) => problems.push(`${label}: ${text(detail).slice(0, 500)}`));
    },
  });
}, storyEvents);
if (values.screenshots) mkdirSync(values.screenshots, { recursive: true });
let failures = 0;

async function check(story) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const allowed = (url) => url.startsWith(`${origin}/`) || /^(data|blob):/.test(url) || (discoServer !== undefined && isLive(story) && new URL(url).origin === discoServer);
  page.on('request', (request) => !allowed(request.url()) && problems.push(`request outside: ${request.url()}`));
  const started = Date.now();
  const live = isLive(story) ? `&disco-server=${encodeURIComponent(discoServer)}` : '';
  await page.goto(`${origin}/iframe.html?id=${story.id}&viewMode=story${live}`);
  // The preview's render phase ends `finished` once the play function is done, also when it threw (Storybook
  // 10 only logs a play function's exception, and announces it on its channel: see `storyEvents` above).
  const phase = await page
    .waitForFunction(() => ['finished', 'aborted'].includes(window.__STORYBOOK_PREVIEW__?.currentRender?.phase) && window.__STORYBOOK_PREVIEW__.currentRender.phase, null, { timeout: 60_000 })
    .then((handle) => handle.jsonValue())
    .catch(() => 'timed out');
  problems.push(...(await page.evaluate(() => window.__storyProblems ?? [])));
  if (phase !== 'finished') problems.push(`story ${phase}: ${await page.locator('#error-message, #error-stack').allTextContents().then((t) => t.join(' ').slice(0, 500))}`);
  if (values.screenshots) await page.screenshot({ path: path.join(values.screenshots, `${story.id}.png`), fullPage: true });
  console.log(`${problems.length ? '✖' : '✔'} ${story.id} (${Date.now() - started} ms)${problems.map((p) => `\n    ${p}`).join('')}`);
  failures += problems.length ? 1 : 0;
  await page.close();
}

// A few pages at a time: most stories wait on IndexedDB, timers or the training worker, not on the CPU.
const queue = [...stories];
await Promise.all(Array.from({ length: Number(values.concurrency ?? 3) }, async () => {
  for (let story = queue.shift(); story; story = queue.shift()) await check(story);
}));
await browser.close();
server.close();
if (skipped) console.log(`\n${skipped} live stories skipped: give a running \`disco serve\` with --server <url>`);
console.log(`\nThe built Storybook has ${all.length} stories.\n${stories.length - failures} stories passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
