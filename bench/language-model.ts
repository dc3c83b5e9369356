// The language model (issue 12): training milliseconds per token and peak memory of the `nano` GPT at
// context 128, batch 8, through the Trainer vs a plain TF.js loop (optimizer.minimize over the same layer
// and loss), and generation milliseconds per token with and without the key/value cache at contexts 16,
// 64 and 128. CPU time of this process (TF.js on wasm is single-threaded; wall time on a shared machine
// mostly measures the neighbours); wall times in the details.
//   npx tsx --conditions=source bench/language-model.ts
import * as tf from '@tensorflow/tfjs';
import { buildModel, generateTokens, initBackend, languageModelLoss, parseTask, Trainer, type Dataset, type Task } from '@disco/core';
import { build } from 'esbuild';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { median, timed, type BenchResult, type Timing } from './lib.js';
import type { PageResult } from './language-model-page.js';

const CONTEXT = 128;
const BATCH = 8;
/** Windows trained per timed run (batches of 8). */
const WINDOWS = Number(process.env.LM_WINDOWS ?? 16);
const RUNS = Number(process.env.LM_RUNS ?? 3);

function task(contextLength: number): Task {
  return parseTask({
    id: 'bench-text',
    title: 'Bench text',
    description: 'Synthetic token windows.',
    dataType: 'text',
    text: { tokenizer: 'gpt2', contextLength },
    model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano' } },
    training: { batchSize: BATCH, learningRate: 0.001, epochsPerRound: 1, validationSplit: 0 },
  });
}

/** `count` windows of pseudo-random ids over the whole vocabulary, with next-token labels. */
function windows(count: number, length: number): Dataset {
  let s = 12345;
  const ids = Int32Array.from({ length: count * (length + 1) }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % 50257);
  const features = new Float32Array(count * length);
  const labels = new Int32Array(count * length);
  for (let r = 0; r < count; r++)
    for (let t = 0; t < length; t++) {
      features[r * length + t] = ids[r * (length + 1) + t];
      labels[r * length + t] = ids[r * (length + 1) + t + 1];
    }
  return { features, featureShape: [length], labels, labelShape: [length], classes: [], count };
}

async function withTrainer(t: Task, data: Dataset): Promise<Timing> {
  const model = buildModel(t);
  const timing = await timed(async () => {
    for await (const _ of new Trainer(model, t.training).train(data, { epochs: 1 }));
  });
  model.dispose();
  return timing;
}

/** The same model trained by a hand-written loop: slice a batch, optimizer.minimize(loss), dispose. */
async function withMinimize(t: Task, data: Dataset): Promise<Timing> {
  const model = buildModel(t);
  const optimizer = tf.train.adam(t.training.learningRate);
  const timing = await timed(async () => {
    const x = tf.tensor2d(data.features, [data.count, CONTEXT]);
    const y = tf.tensor2d(Float32Array.from(data.labels!), [data.count, CONTEXT]);
    for (let start = 0; start < data.count; start += BATCH) {
      const size = Math.min(BATCH, data.count - start);
      const loss = optimizer.minimize(() => {
        const xb = tf.slice(x, [start, 0], [size, CONTEXT]);
        const yb = tf.slice(y, [start, 0], [size, CONTEXT]);
        return languageModelLoss(yb, model.apply(xb, { training: true }) as tf.Tensor);
      }, true);
      await loss!.data();
      loss!.dispose();
      await new Promise((resolve) => setImmediate(resolve));
    }
    tf.dispose([x, y]);
  });
  optimizer.dispose();
  model.dispose();
  return timing;
}

/** Peak bytes of tensors during one training batch (weights, optimizer slots and activations included). */
async function peakTrainingBytes(t: Task): Promise<{ peakBytes: number; wasmHeapBytes: number }> {
  const model = buildModel(t);
  const data = windows(BATCH, CONTEXT);
  const x = tf.tensor2d(data.features, [BATCH, CONTEXT]);
  const y = tf.tensor2d(Float32Array.from(data.labels!), [BATCH, CONTEXT]);
  await model.trainOnBatch(x, y); // creates the optimizer's slots
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  tf.dispose([x, y]);
  model.dispose();
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return { peakBytes: info.peakBytes, wasmHeapBytes: backend.wasm?.HEAPU8.byteLength ?? 0 };
}

async function generation(contextLength: number, cache: boolean, model: tf.LayersModel): Promise<Timing> {
  return timed(async () => {
    for await (const _ of generateTokens(model, [464], { maxTokens: contextLength - 1, cache }));
  });
}

const here = path.dirname(fileURLToPath(import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/**
 * The same training figures in headless Chromium: bench/language-model-page.ts bundled by esbuild, served
 * with tfjs-backend-wasm's binaries from a throw-away folder, run on wasm (and, with LM_WEBGL=1, on webgl
 * through SwiftShader, Chromium's software GL: no GPU here). Wall time in the page (the browser's CPU time is not
 * this process's), best of 2 runs after a warm-up.
 */
export async function inChromium(windowsPerRun: number): Promise<PageResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'disco-lm-bench-'));
  const server = createServer((request, response) => {
    const file = path.join(dir, path.basename(new URL(request.url ?? '/', 'http://x').pathname) || 'index.html');
    readFile(file).then(
      (body) => response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  try {
    await build({ entryPoints: [path.join(here, 'language-model-page.ts')], bundle: true, format: 'esm', platform: 'browser', conditions: ['source'], outfile: path.join(dir, 'page.js'), logLevel: 'error' });
    const wasmDir = path.join(here, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) await copyFile(path.join(wasmDir, name), path.join(dir, name));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/page.js"></script>');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const results: PageResult[] = [];
    // webgl only when asked (LM_WEBGL=1): without a GPU it is SwiftShader, which did not finish one run in 10 minutes here.
    const backends = process.env.LM_WEBGL === '1' ? (['wasm', 'webgl'] as const) : (['wasm'] as const);
    for (const backend of backends) {
      const browser = await chromium.launch({
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-dev-shm-usage', ...(backend === 'webgl' ? ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] : ['--disable-gpu'])],
      });
      try {
        const page = await browser.newPage();
        await page.goto(url);
        await page.waitForFunction(() => 'lmBench' in globalThis);
        results.push(
          await page.evaluate(
            ([b, w]) => (globalThis as unknown as { lmBench: (b: string, w: number, c: number, n: number) => Promise<PageResult> }).lmBench(b, w, 128, 8),
            [backend, windowsPerRun] as const,
          ),
        );
      } catch (error) {
        console.error(`  chromium ${backend}:`, (error as Error).message.split('\n')[0]);
      } finally {
        await browser.close();
      }
    }
    return results;
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  const backend = await initBackend();
  const t = task(CONTEXT);
  const data = windows(WINDOWS, CONTEXT);
  const tokens = WINDOWS * CONTEXT;
  await withTrainer(t, data);
  await withMinimize(t, data);
  const trainer: Timing[] = [];
  const plain: Timing[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      trainer.push(await withTrainer(t, data));
      plain.push(await withMinimize(t, data));
    } else {
      plain.push(await withMinimize(t, data));
      trainer.push(await withTrainer(t, data));
    }
  }
  const cpu = (ts: Timing[]) => median(ts.map((x) => x.cpuMs));
  const wall = (ts: Timing[]) => median(ts.map((x) => x.wallMs));
  const memory = await peakTrainingBytes(t);
  const results: BenchResult[] = [
    {
      name: `nano training, context ${CONTEXT}, batch ${BATCH}, Node ${backend}: Trainer`,
      value: cpu(trainer) / tokens,
      unit: 'ms/token (CPU)',
      details: { plainMsPerToken: +(cpu(plain) / tokens).toFixed(3), wallMsPerToken: +(wall(trainer) / tokens).toFixed(3), tokensPerRun: tokens, runs: RUNS, reference: '0.53 ms/token on a laptop GPU (reference platform)' },
    },
    {
      name: 'Trainer / plain optimizer.minimize loop, same model',
      value: cpu(trainer) / cpu(plain),
      unit: '× CPU time',
      target: '≤ 1.05',
      details: { wallRatio: +(wall(trainer) / wall(plain)).toFixed(3), pairedCpuRatio: +median(trainer.map((x, i) => x.cpuMs / plain[i].cpuMs)).toFixed(3) },
    },
    {
      name: 'nano training peak tensor memory (one batch of 8 × 128)',
      value: memory.peakBytes / 2 ** 20,
      unit: 'MiB',
      details: { wasmHeapMiB: +(memory.wasmHeapBytes / 2 ** 20).toFixed(0), logitsMiB: +((BATCH * CONTEXT * 50257 * 4) / 2 ** 20).toFixed(0) },
    },
  ];
  if (process.env.LM_BROWSER !== '0')
    for (const r of await inChromium(WINDOWS)) {
      results.push({
        name: `nano training, context ${CONTEXT}, batch ${BATCH}, headless Chromium ${r.backend}: Trainer`,
        value: r.trainerMsPerToken,
        unit: 'ms/token (wall)',
        details: { plainMsPerToken: +r.plainMsPerToken.toFixed(3), ratio: +(r.trainerMsPerToken / r.plainMsPerToken).toFixed(3), peakTensorMiB: +r.peakMiB.toFixed(0) },
      });
    }
  for (const contextLength of [16, 64, 128]) {
    const model = buildModel(task(contextLength));
    await generation(contextLength, true, model); // warm-up
    await generation(contextLength, false, model);
    const cached: Timing[] = [];
    const full: Timing[] = [];
    for (let i = 0; i < RUNS; i++) {
      cached.push(await generation(contextLength, true, model));
      full.push(await generation(contextLength, false, model));
    }
    model.dispose();
    const per = (ts: Timing[]) => cpu(ts) / (contextLength - 1);
    results.push({
      name: `nano generation, ${contextLength - 1} tokens filling context ${contextLength}: with the cache`,
      value: per(cached),
      unit: 'ms/token (CPU)',
      details: { withoutCacheMsPerToken: +per(full).toFixed(3), speedup: +(per(full) / per(cached)).toFixed(2), wallMsPerToken: +(wall(cached) / (contextLength - 1)).toFixed(3) },
    });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}`, r.details ?? '');
}
