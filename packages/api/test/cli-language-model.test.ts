import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildModel, evaluateLanguageModel, initBackend, type Task } from '@disco/core';
import { bundledData } from '../src/cli/common.js';
import { disco } from './cli-helpers.js';
import { CONTEXT, evaluateText, MARGIN, smallShakespeare, writeHeldOutText } from './lm-helpers.js';

/**
 * The language model through the CLI: `disco simulate` of the Shakespeare task (2 clients against the command's
 * own real server) and its `--out` folder read back by `disco evaluate` (`disco generate`: cli-generate.test.ts).
 * The task file is the built-in task made small (lm-helpers.ts) under its own id, so that the bundled plays are
 * its data; the run takes the first 40 training windows (5 steps per client and round) and 24 test windows.
 */

const TRAIN_WINDOWS = '40';
const TEST_WINDOWS = 24;
const ROUNDS = '2';

let dir: string;
let taskFile: string;
let task: Task;
let initialPerplexity: number;
/** The run's saved model. */
let lmDir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-lm-'));
  task = smallShakespeare();
  taskFile = path.join(dir, 'shakespeare-small.json');
  writeFileSync(taskFile, JSON.stringify(task));
  // The start: the seeded version-0 model the run starts from (the server builds the same one), on the same test windows.
  await initBackend();
  const model = buildModel(task);
  initialPerplexity = evaluateLanguageModel(model, await bundledData(task, 'test', TEST_WINDOWS)).perplexity;
  model.dispose();
  lmDir = path.join(dir, 'federated');
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Done {
  type: 'done';
  testPerplexity: number;
  perplexity: number;
  testLoss: number;
  rounds: number;
  out?: string;
}

function simulate(out: string) {
  return disco(
    ['simulate', '--task', taskFile, '--clients', '2', '--rounds', ROUNDS, '--train-limit', TRAIN_WINDOWS, '--test-limit', String(TEST_WINDOWS), '--out', out, '--json'],
    { timeoutMs: 220_000 },
  );
}

describe('disco simulate --task shakespeare --out, then evaluate', () => {
  test(`federated, 2 clients: the test perplexity falls ${MARGIN}× below the initial model's; --out saves the model with its task`, async (t) => {
    const run = await simulate(lmDir);

    assert.equal(run.code, 0, run.stderr);
    const rounds = run.events.filter((e) => e.type === 'round');
    assert.deepEqual(rounds.map((e) => e.round), [1, 2]);
    assert.ok(rounds.every((e) => typeof e.testPerplexity === 'number' && e.testPerplexity === Math.exp(e.testLoss as number)));
    const done = run.events.at(-1) as unknown as Done;
    assert.equal(done.type, 'done');
    assert.equal(done.perplexity, done.testPerplexity);
    t.diagnostic(`test perplexity ${initialPerplexity.toFixed(0)} → ${rounds.map((e) => (e.testPerplexity as number).toFixed(0)).join(' → ')}`);
    assert.ok(done.testPerplexity * MARGIN < initialPerplexity, `test perplexity ${done.testPerplexity}, initially ${initialPerplexity}`);
    assert.deepEqual(JSON.parse(readFileSync(path.join(lmDir, 'task.json'), 'utf8')), JSON.parse(JSON.stringify(task)));
    assert.ok(existsSync(path.join(lmDir, 'model.json')) && existsSync(path.join(lmDir, 'weights.bin')));

    // evaluate reads the folder's task (no --task): the beginning of Macbeth, as the run's test windows are.
    const report = await evaluateText(lmDir, writeHeldOutText(dir));
    assert.ok(report.count >= 20 && report.tokens > CONTEXT * (report.count - 1), JSON.stringify(report));
    assert.ok(report.perplexity * MARGIN < initialPerplexity, `evaluate: perplexity ${report.perplexity}`);
    assert.ok(report.accuracy > 0 && report.accuracy < 1);
  });
});
