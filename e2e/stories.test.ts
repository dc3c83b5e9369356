// Storybook builds offline from the current sources (support/portal.ts's currentStorybook), and every story of the build renders in Chromium, play
// function included (the worker trains, the fake API federates, models are tested), without a page error
// or a request outside the machine. The Live stories talk to a real Disco server started here (SQLite in a
// temporary folder, the built-in tasks). By hand: `npm run build-storybook && npm run check-stories -w stories`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { startServer, type RunningServer } from '@disco/api';
import { currentStorybook, root, scratchDir } from './support/portal.js';

const scratch = scratchDir();
let server: RunningServer | undefined;
after(async () => {
  await server?.close();
  scratch.cleanup();
});

/** Runs a command without blocking the event loop (the Disco server of this process answers meanwhile). */
function run(args: string[], cwd: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(args[0], args.slice(1), { cwd, env: { ...process.env, STORYBOOK_DISABLE_TELEMETRY: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

test('Storybook builds and every story renders, the Live ones against a real server', { timeout: 450_000 }, async (t) => {
  const out = currentStorybook();
  const stories = path.join(root, 'stories');

  // What the Live stories expect (support/live.ts): the admin token `story-admin`, calls from Storybook's origin.
  server = await startServer({ host: '127.0.0.1', port: 0, dbPath: path.join(scratch.dir, 'disco.sqlite'), adminToken: 'story-admin', cors: ['*'] });
  const check = await run([process.execPath, path.join(stories, 'scripts', 'check-stories.mjs'), '--dir', out, '--server', server.url, '--concurrency', '3'], stories);

  const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')) as { entries: Record<string, { type: string; id: string }> };
  const ids = Object.values(index.entries).filter((entry) => entry.type === 'story').map((entry) => entry.id);
  assert.ok(ids.length >= 50, `${ids.length} stories in the build`);
  assert.ok(ids.filter((id) => /--live(-|$)/.test(id)).length >= 5, 'the Live stories are built');
  assert.equal(check.status, 0, check.output);
  const summary = /^(\d+) stories passed, (\d+) failed$/m.exec(check.output);
  assert.deepEqual([Number(summary?.[1]), Number(summary?.[2])], [ids.length, 0], check.output);
  t.diagnostic(`${summary?.[0]} (${ids.length} in the build, ${ids.filter((id) => /--live(-|$)/.test(id)).length} of them Live)`);
  for (const id of ids) assert.match(check.output, new RegExp(`^✔ ${id} `, 'm'), `${id} did not pass`);
});
