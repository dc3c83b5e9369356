#!/usr/bin/env node
// Assembles the portal in demo/dist/: the pages of site/ plus the kit (disco.js, its worker and TF.js's
// wasm binaries) from packages/elements/dist/, so that one static folder serves both, as `npm start` does.
// Run `npm run build -w @disco/elements` first. `--kit <dir>` and `--out <dir>` change the two folders
// (the end-to-end tests assemble a fresh copy in a temporary folder).
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { kit: { type: 'string' }, out: { type: 'string' } } });
const kit = path.resolve(values.kit ?? path.join(here, '..', 'packages', 'elements', 'dist'));
const out = path.resolve(values.out ?? path.join(here, 'dist'));

if (!existsSync(path.join(kit, 'disco.js'))) {
  console.error('packages/elements/dist/disco.js is missing: run `npm run build -w @disco/elements` first.');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(path.join(here, 'site'), out, { recursive: true });
// The bundle's files only, not tsc's dist/index.js and .d.ts for bundler users.
// With the .br/.gz the kit's build writes beside them (served pre-compressed by `disco serve --static`).
const files = readdirSync(kit).filter((f) => /^disco(-[\w.-]+)?\.js(\.map|\.br|\.gz)?$|\.wasm(\.br|\.gz)?$/.test(f));
for (const file of files) cpSync(path.join(kit, file), path.join(out, file));
console.log(`${path.relative(process.cwd(), out) || '.'}: the portal's pages and ${files.join(', ')}`);
