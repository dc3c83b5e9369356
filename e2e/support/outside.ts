// Packages installed the way a user installs them: `npm pack` of workspaces, then `npm install` of the
// tarballs into an empty folder outside the monorepo, offline.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from './lock.js';

// Not portal.ts's `root`: that module loads the API and Chromium, which a packed install must not borrow.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The environment without what `npm test` or `npm run` set for the monorepo's own package. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_NO_WARNINGS: '1', ...extra };
  for (const key of Object.keys(env)) {
    if (/^npm_(package|lifecycle)_|^npm_config_(local_prefix|workspaces?|include_workspace_root)$|^INIT_CWD$/i.test(key)) delete env[key];
  }
  return env;
}

/** Runs `command` in `cwd` with {@link cleanEnv}; fails the test with its output when it fails. Returns stdout. */
export function runOutside(command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv(extraEnv), timeout: 240_000 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed (${result.status} ${result.signal ?? ''}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * Packs the workspaces `packages/<name>` into `tarballs`, and writes into `app` a `package.json` depending on
 * those tarballs (plus `extra` fields) and a lockfile that is the monorepo's minus its workspaces: npm keeps
 * the locked versions that satisfy the tarballs' dependencies and prunes the rest, so `npm install
 * --offline` needs no registry.
 */
export function packInto(packages: string[], tarballs: string, app: string, extra: Record<string, unknown> = {}): void {
  // Not while another test file writes the packages' dist/ (vite-app.test.ts's build).
  withLock('packages', () => runOutside('npm', ['pack', '--silent', '--pack-destination', tarballs, ...packages.flatMap((p) => ['-w', `packages/${p}`])], root));
  const packed = readdirSync(tarballs);
  const dependencies = Object.fromEntries(
    packages.map((p) => {
      const file = packed.find((f) => f.startsWith(`disco-${p}-`) && f.endsWith('.tgz'));
      assert.ok(file, `npm pack made no tarball for @disco/${p} (${packed.join(', ')})`);
      return [`@disco/${p}`, `file:${path.join(tarballs, file)}`];
    }),
  );
  const locked = Object.entries(monorepoLock()).filter(([key, entry]) => key.startsWith('node_modules/') && !key.startsWith('node_modules/@disco/') && !entry.link);
  const manifest = { name: `disco-${path.basename(app)}`, private: true, ...extra, dependencies: { ...dependencies, ...(extra.dependencies as object | undefined) } };
  writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    path.join(app, 'package-lock.json'),
    JSON.stringify({ ...manifest, lockfileVersion: 3, requires: true, packages: { '': manifest, ...Object.fromEntries(locked) } }, null, 2),
  );
}

/** The monorepo lockfile's entries, by path (`node_modules/vite`). */
export function monorepoLock(): Record<string, { link?: boolean; version?: string }> {
  return (JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean; version?: string }> }).packages;
}
