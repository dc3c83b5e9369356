import { buildDemo, currentKit, launchChromium, scratchDir, startPortal } from './support/portal.js';
import path from 'node:path';
const s = scratchDir();
const kit = currentKit();
buildDemo(kit, path.join(s.dir, 'site'));
const server = await startPortal(s.dir, path.join(s.dir, 'site'));
console.log(server.url);
const browser = await launchChromium();
for (const scheme of ['light', 'dark'] as const) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  page.on('console', (m) => m.type() === 'error' && console.log('console', m.text()));
  for (const p of ['index.html', 'task.html?task=titanic', 'models.html', 'create.html']) {
    await page.goto(`${server.url}/${p}`);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `/tmp/demo-${scheme}-${p.split('.')[0]}.png`, fullPage: true });
  }
  await page.close();
}
await browser.close(); await server.close(); s.cleanup();
