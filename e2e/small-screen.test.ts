// Small screens (375 × 812 CSS pixels, a phone, touch): the demo portal's pages and the elements' stories
// fit the width, with no horizontal scrolling (`document.scrollingElement.scrollWidth <= 375`). Wide content
// (tables, charts, logs, code) scrolls inside its own box. A full-page screenshot of each page is kept as an
// artifact (e2e/dist/small-screen/, or $DISCO_ARTIFACTS/small-screen/): checked for its width, not its pixels.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningServer } from '@disco/api';
import { buildDemo, currentKit, currentStorybook, launchChromium, root, scratchDir, startPortal } from './support/portal.js';

const width = 375;
const artifacts = path.join(process.env.DISCO_ARTIFACTS ?? path.join(root, 'e2e', 'dist'), 'small-screen');
// The richest state of each element in Storybook (a table, charts, a log, long privacy text, the form's every field).
const stories = [
  'elements-task-list--ready',
  'elements-task--ready',
  'elements-task--image-task',
  'elements-task--privacy-secure-dp',
  'elements-train--ready',
  'elements-train--finished',
  'elements-train--collaborative',
  'elements-train--decentralized',
  'elements-evaluate--tested',
  'elements-evaluate--predicted',
  'elements-task-form--privacy-custom',
  'elements-model-library--ready',
];
const scratch = scratchDir();
const site = path.join(scratch.dir, 'site');
let server: RunningServer;
let browser: Browser;
let context: BrowserContext;

before(async () => {
  buildDemo(currentKit(), site);
  cpSync(currentStorybook(), path.join(site, 'storybook'), { recursive: true });
  server = await startPortal(scratch.dir, site);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width, height: 812 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  scratch.cleanup();
});

/** Waits until every Disco element of the page has rendered what it loads. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.evaluate(async () => {
    const elements = [...document.querySelectorAll('*')].filter((e) => e.localName.startsWith('disco-')) as (Element & { loaded?: Promise<unknown>; updateComplete?: Promise<unknown> })[];
    await Promise.all(elements.map((e) => customElements.whenDefined(e.localName)));
    await Promise.all(elements.map((e) => e.loaded ?? e.updateComplete ?? Promise.resolve()));
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  });
}

/** The page's scroll width, the elements wider than the viewport (for the message), and the screenshot's size. */
async function measure(page: Page, name: string): Promise<{ scrollWidth: number; wide: string[]; png: { width: number; height: number } }> {
  const { scrollWidth, wide } = await page.evaluate((limit) => {
    // No named inner function here: tsx's keepNames would wrap it in a helper the page does not have.
    const wide: string[] = [];
    const roots: [Document | ShadowRoot, string][] = [[document, '']];
    for (let next = roots.pop(); next; next = roots.pop()) {
      const [root, path] = next;
      for (const el of root.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        // Where an overflow starts: wider than the screen inside a parent that is not, and does not scroll.
        const parent = el.parentElement ?? (el.parentNode instanceof ShadowRoot ? el.parentNode.host : undefined);
        const clipped = parent !== undefined && (parent.getBoundingClientRect().right > limit + 0.5 || getComputedStyle(parent).overflowX !== 'visible');
        if (box.right > limit + 0.5 && !clipped) wide.push(`${path}${el.localName}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''} (right ${Math.round(box.right)})`);
        if (el.shadowRoot) roots.push([el.shadowRoot, `${path}${el.localName} > `]);
      }
    }
    return { scrollWidth: document.scrollingElement!.scrollWidth, wide };
  }, width);
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const png = readFileSync(file);
  return { scrollWidth, wide, png: { width: png.readUInt32BE(16), height: png.readUInt32BE(20) } };
}

function assertFits(name: string, result: Awaited<ReturnType<typeof measure>>): void {
  assert.ok(result.scrollWidth <= width, `${name}: scrollWidth ${result.scrollWidth} > ${width}; wider than the screen:\n${result.wide.slice(0, 15).join('\n')}`);
  assert.equal(result.png.width, width, `${name}: the full-page screenshot is ${result.png.width} px wide`);
  assert.ok(result.png.height >= 812, `${name}: the screenshot is ${result.png.height} px high`);
}

for (const [name, url] of [
  ['demo-index', '/index.html'],
  ['demo-task', '/task.html?task=titanic'],
  ['demo-models', '/models.html'],
  ['demo-create', '/create.html'],
] as const) {
  test(`the demo's ${url} fits ${width} px`, async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}${url}`);
    await settle(page);
    if (name === 'demo-task') {
      // With data chosen: the file list, the preview table and the ready status.
      const csv = readFileSync(path.join(root, 'packages', 'core', 'assets', 'titanic', 'titanic.csv'), 'utf8');
      await page.evaluate(async (text) => {
        const train = document.querySelector('disco-train');
        if (!train) throw new Error('no <disco-train> on the task page');
        train.files = [new File([text], 'titanic.csv', { type: 'text/csv' })];
        await train.filesChecked;
        await train.updateComplete;
      }, csv);
    }
    const result = await measure(page, name);
    assertFits(url, result);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test(`the elements' stories fit ${width} px`, { timeout: 180_000 }, async () => {
  const failures: string[] = [];
  // Three pages at a time: the stories mostly wait on IndexedDB, timers and the worker, not on the CPU.
  const queue = [...stories];
  const check = async (id: string) => {
    const page = await context.newPage();
    await page.goto(`${server.url}/storybook/iframe.html?id=${id}&viewMode=story`);
    // The preview's render phase ends `finished` once the story's play function is done.
    await page.waitForFunction(() => (window as unknown as { __STORYBOOK_PREVIEW__?: { currentRender?: { phase?: string } } }).__STORYBOOK_PREVIEW__?.currentRender?.phase === 'finished', null, { timeout: 60_000 });
    await settle(page);
    const result = await measure(page, id);
    try {
      assertFits(id, result);
    } catch (error) {
      failures.push((error as Error).message);
    }
    await page.close();
  };
  await Promise.all([0, 1, 2].map(async () => {
    for (let id = queue.shift(); id; id = queue.shift()) await check(id);
  }));
  assert.deepEqual(failures.sort(), []);
});
