// `npm run bench`: runs every benchmark of bench/ in one process, one after the other, writes the raw
// results to bench/results/<date>.json and the summary table to docs/BENCHMARKS.md (between markers).
// Only ratios measured side by side in one run are comparable on a shared 2-core machine.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './lib.js';


const here = path.dirname(fileURLToPath(import.meta.url));
const benches = ['trainer-vs-fit', 'federated-overhead', 'aggregation', 'instances', 'strategies', 'attacks', 'secure-aggregation', 'decentralized', 'language-model', 'async', 'bundle-size'];
const only = process.argv.slice(2);

const all: { bench: string; results: BenchResult[]; error?: string; seconds: number }[] = [];
for (const bench of benches) {
  if (only.length && !only.includes(bench)) continue;
  const file = path.join(here, `${bench}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n### ${bench}`);
  const started = Date.now();
  try {
    const mod = (await import(pathToFileURL(file).href)) as { run: () => Promise<BenchResult[]> };
    const results = await mod.run();
    for (const r of results) console.log(`  ${r.name}: ${format(r.value)} ${r.unit}${r.target ? `  (target ${r.target})` : ''}`);
    all.push({ bench, results, seconds: (Date.now() - started) / 1000 });
  } catch (error) {
    console.error(`  ${bench} failed:`, error);
    all.push({ bench, results: [], error: String((error as Error)?.stack ?? error), seconds: (Date.now() - started) / 1000 });
  }
}

const date = new Date().toISOString();
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', `${date.slice(0, 19).replace(/:/g, '-')}.json`), JSON.stringify({ date, machine, benches: all }, null, 2));
writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify({ date, machine, benches: all }, null, 2));

// Update the generated part of docs/BENCHMARKS.md, keeping the hand-written text around it. A partial run
// (`npm run bench -- <name>`) replaces only the rows of the benches it ran.
const doc = path.join(here, '..', 'docs', 'BENCHMARKS.md');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`;
const previous = new Map<string, string[]>();
const inner = text.slice(text.indexOf(start) + start.length, text.indexOf(end));
for (const line of inner.split('\n')) {
  const m = /^\| `([\w-]+)` \|/.exec(line);
  if (m) previous.set(m[1], [...(previous.get(m[1]) ?? []), line]);
}
for (const { bench, results, error } of all) {
  previous.set(
    bench,
    error
      ? [`| \`${bench}\` | failed: ${error.split('\n')[0].replace(/\|/g, '\\|')} | | | |`]
      : results.map((r) => `| \`${bench}\` | ${r.name} | **${format(r.value)}** ${r.unit} | ${r.target ?? ''} | ${r.details ? detailText(r.details) : ''} |`),
  );
}
const rows = [...previous.values()].flat();
const table = [
  start,
  `Last run: ${date.slice(0, 16).replace('T', ' ')} UTC on ${machine}.`,
  '',
  '| bench | measure | value | target | details |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  end,
].join('\n');
writeFileSync(doc, text.slice(0, text.indexOf(start)) + table + text.slice(text.indexOf(end) + end.length));
console.log(`\nwrote bench/results/latest.json and docs/BENCHMARKS.md`);
process.exit(all.some((b) => b.error) ? 1 : 0);

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? format(v) : String(v)}`)
    .join('; ')
    .replace(/\|/g, '\\|');
}
