import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildModel, evaluateLanguageModel, initBackend, titanic, type Task } from '@disco/core';
import { bundledData } from '../src/cli/common.js';
import { disco } from './cli-helpers.js';
import { CONTEXT, evaluateText, MARGIN, smallShakespeare, writeHeldOutText } from './lm-helpers.js';

/**
 * The language model through the CLI: `disco simulate` of the Shakespeare task (2 clients against the command's
 * own real server), its `--out` folder read back by `disco evaluate` and `disco generate`, and their refusals.
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
/** The run's saved model, read by the generate tests. */
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

describe('disco simulate --task shakespeare --out, then evaluate and generate', () => {
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

  test('generate: text from the saved model, the same for the same seed, greedy deterministic', async () => {
    const prompt = 'Ham. To be, or not';
    const generate = (...extra: string[]) => disco(['generate', '--model', lmDir, '--prompt', prompt, '--tokens', '12', ...extra]);
    const [greedy, greedyAgain, seeded, seededAgain, json] = await Promise.all([
      generate('--temperature', '0'),
      generate('--temperature', '0'),
      generate('--seed', '7', '--temperature', '1', '--top-k', '50'),
      generate('--seed', '7', '--temperature', '1', '--top-k', '50'),
      generate('--seed', '7', '--temperature', '1', '--top-k', '50', '--json'),
    ]);

    for (const run of [greedy, greedyAgain, seeded, seededAgain, json]) assert.equal(run.code, 0, run.stderr);
    // Piped, the continuation is printed once, whole, then a newline (a model this young may well generate only
    // line ends and commas: what it prints is compared with the JSON line's text).
    assert.equal(greedy.stdout, greedyAgain.stdout);
    assert.equal(seeded.stdout, seededAgain.stdout);
    const done = json.events.at(-1) as { type: string; text: string; tokens: number; promptTokens: number };
    assert.equal(done.type, 'done');
    assert.equal(`${done.text}\n`, seeded.stdout);
    assert.ok(done.text.length >= 1, JSON.stringify(done));
    assert.equal(done.tokens, 12);
    assert.equal(done.promptTokens, 7); // "Ham", ".", " To", " be", ",", " or", " not"
  });

  test('generate refuses a missing folder, a folder without its task, a model of another task, an empty prompt and bad numbers', async () => {
    const bare = path.join(dir, 'bare');
    mkdirSync(bare);
    for (const file of ['model.json', 'weights.bin']) copyFileSync(path.join(lmDir, file), path.join(bare, file));
    const tabular = path.join(dir, 'titanic-task');
    mkdirSync(tabular);
    for (const file of ['model.json', 'weights.bin']) copyFileSync(path.join(lmDir, file), path.join(tabular, file));
    writeFileSync(path.join(tabular, 'task.json'), JSON.stringify(titanic));
    const missing = path.join(dir, 'nowhere');

    const [absent, noTask, notText, empty, tokens, temperature, topK, withTask] = await Promise.all([
      disco(['generate', '--model', missing, '--prompt', 'Hi']),
      disco(['generate', '--model', bare, '--prompt', 'Hi']),
      disco(['generate', '--model', tabular, '--prompt', 'Hi']),
      disco(['generate', '--model', lmDir, '--prompt', '']),
      disco(['generate', '--model', lmDir, '--prompt', 'Hi', '--tokens', '0']),
      disco(['generate', '--model', lmDir, '--prompt', 'Hi', '--temperature', 'hot']),
      disco(['generate', '--model', lmDir, '--prompt', 'Hi', '--top-k', '1.5']),
      // --task names the task of a folder without task.json.
      disco(['generate', '--model', bare, '--task', taskFile, '--prompt', 'Hi', '--tokens', '2', '--temperature', '0']),
    ]);

    assert.equal(absent.code, 1);
    assert.equal(absent.stderr, `disco: ${missing}: no such model folder\n`);
    assert.equal(noTask.code, 1);
    assert.match(noTask.stderr, new RegExp(`^disco: ${bare} holds no task.json, so its tokenizer and context length are unknown: pass --task`));
    assert.equal(notText.code, 1);
    assert.equal(notText.stderr, `disco: the model in ${tabular} is for task "titanic" (tabular data): "disco generate" needs a language model, trained for a text task\n`);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^disco: --prompt is empty: give the text to continue\n\nUsage:/);
    assert.equal(tokens.code, 2);
    assert.match(tokens.stderr, /^disco: --tokens must be an integer of at least 1, got "0"\n/);
    assert.equal(temperature.code, 2);
    assert.match(temperature.stderr, /^disco: --temperature must be a number from 0 to 100, got "hot"\n/);
    assert.equal(topK.code, 2);
    assert.match(topK.stderr, /^disco: --top-k must be an integer of at least 0, got "1.5"\n/);
    assert.equal(withTask.code, 0, withTask.stderr);
  });
});
