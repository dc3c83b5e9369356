// Storybook builds offline from the current sources, and one story per element and state family renders
// in Chromium, play function included (the worker trains, the fake API federates, models are tested).
// Every story: `npm run build-storybook && npm run check-stories -w stories`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { root, scratchDir } from './support/portal.js';

const scratch = scratchDir();
after(() => scratch.cleanup());

function run(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(args[0]!, args.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, STORYBOOK_DISABLE_TELEMETRY: '1' } });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

test('Storybook builds and its stories render', { timeout: 240_000 }, () => {
  const out = path.join(scratch.dir, 'storybook');
  const stories = path.join(root, 'stories');
  const manifest = run(['npm', 'run', 'manifest', '--prefix', path.join(root, 'packages', 'elements')], root);
  assert.equal(manifest.status, 0, manifest.output);
  const build = run([path.join(root, 'node_modules', '.bin', 'storybook'), 'build', '--disable-telemetry', '--quiet', '-o', out], stories);
  assert.equal(build.status, 0, build.output);

  const check = run(
    [process.execPath, path.join(stories, 'scripts', 'check-stories.mjs'), '--dir', out, '--concurrency', '3', 'task-list--ready', 'task--ready', 'train--ready', 'train--finished', 'train--collaborative', 'evaluate--tested', 'task-form--server-refused', 'model-library--ready', 'error-state'],
    stories,
  );

  assert.equal(check.status, 0, check.output);
  assert.ok(Number(/(\d+) stories passed, 0 failed/.exec(check.output)?.[1]) >= 13, check.output);
});
