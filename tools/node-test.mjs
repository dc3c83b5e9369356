#!/usr/bin/env node
// Runs the Node test files (`*.test.ts`, not `*.browser.test.ts`) given, or found under the given folders, with
// node:test through tsx. Node 20's `node --test` does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const only = process.env.DISCO_TEST_FILTER;
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.test.ts') && !name.endsWith('.browser.test.ts')) files.push(full);
  }
}
for (const root of roots) if (existsSync(root)) statSync(root).isDirectory() ? walk(root) : files.push(root);
const selected = only ? files.filter((f) => f.includes(only)) : files;
if (selected.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', `--test-concurrency=${process.env.DISCO_TEST_CONCURRENCY ?? 1}`, `--test-timeout=${process.env.DISCO_TEST_TIMEOUT_MS ?? 240_000}`, '--test-reporter=spec', ...selected.sort()],
  { stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
);
process.exit(result.status ?? 1);
