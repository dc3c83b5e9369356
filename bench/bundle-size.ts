// Size of the script-tag bundle as a visitor downloads it: packages/elements/dist/disco.js, the worker of
// <disco-train> and TF.js's wasm binaries, raw and gzipped (level 9, what a static server sends).
// `npm run bench` builds the bundle first; run alone, build it with `npm run build:bundle -w packages/elements`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BenchResult } from './lib.js';

const dist = fileURLToPath(new URL('../packages/elements/dist/', import.meta.url));

function sizes(file: string): { raw: number; gzip: number } {
  const bytes = readFileSync(path.join(dist, file));
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const kB = (bytes: number) => Math.round(bytes / 100) / 10;

export async function run(): Promise<BenchResult[]> {
  if (!existsSync(path.join(dist, 'disco.js'))) throw new Error('packages/elements/dist/disco.js is missing: run `npm run build -w packages/elements` first');
  const files = readdirSync(dist);
  const workers = files.filter((f) => /^disco-.*\.js$/.test(f));
  const wasm = files.filter((f) => f.endsWith('.wasm')).sort();
  const main = sizes('disco.js');
  const results: BenchResult[] = [
    { name: 'disco.js (raw)', value: kB(main.raw), unit: 'kB' },
    { name: 'disco.js (gzip)', value: kB(main.gzip), unit: 'kB' },
  ];
  for (const worker of workers) {
    const s = sizes(worker);
    results.push({ name: `${worker} (gzip)`, value: kB(s.gzip), unit: 'kB', details: { raw_kB: kB(s.raw) } });
  }
  for (const file of wasm) {
    const s = sizes(file);
    results.push({ name: `${file} (gzip)`, value: kB(s.gzip), unit: 'kB', details: { raw_kB: kB(s.raw) } });
  }
  // A page load fetches disco.js only; choosing data files starts the worker, which fetches the SIMD
  // binary (the threaded one only on cross-origin-isolated pages, the plain one only without SIMD).
  const firstVisit = [main, ...workers.map(sizes), ...(wasm.includes('tfjs-backend-wasm-simd.wasm') ? [sizes('tfjs-backend-wasm-simd.wasm')] : [])];
  results.push({
    name: 'all a training visitor fetches: disco.js + worker + SIMD wasm (gzip)',
    value: kB(firstVisit.reduce((sum, s) => sum + s.gzip, 0)),
    unit: 'kB',
    details: { raw_kB: kB(firstVisit.reduce((sum, s) => sum + s.raw, 0)) },
  });
  return results;
}
