import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildModel, initBackend, titanic } from '@disco/core';
import { generateCommand } from '../src/cli/generate.js';
import { saveModelWithTask } from '../src/cli/model-dir.js';
import { disco } from './cli-helpers.js';
import { smallShakespeare } from './lm-helpers.js';

/**
 * `disco generate` on a model folder as `disco simulate --out` writes it (model.json, weights.bin, task.json).
 * The model is the small Shakespeare task's version 0, saved here: what is under test is the command (the same
 * text for the same seed, greedy decoding deterministic, the continuation printed whole when piped, refusals);
 * a trained model generating is cli-language-model.test.ts's and core's generate tests' subject.
 */

let dir: string;
let lmDir: string;
let taskFile: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-generate-'));
  const task = smallShakespeare();
  taskFile = path.join(dir, 'shakespeare-small.json');
  writeFileSync(taskFile, JSON.stringify(task));
  await initBackend();
  const model = buildModel(task);
  lmDir = path.join(dir, 'lm');
  await saveModelWithTask(model, lmDir, task);
  model.dispose();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('disco generate', () => {
  test('the same text for the same seed, greedy decoding deterministic, the continuation printed whole when piped', async () => {
    const generate = (...extra: string[]) => disco(['generate', '--model', lmDir, '--prompt', 'Ham. To be, or not', '--tokens', '12', ...extra]);
    const sampled = ['--seed', '7', '--temperature', '1', '--top-k', '50'];

    const [greedy, greedyJson, seeded, seededJson] = await Promise.all([
      generate('--temperature', '0'),
      generate('--temperature', '0', '--json'),
      generate(...sampled),
      generate(...sampled, '--json'),
    ]);

    for (const run of [greedy, greedyJson, seeded, seededJson]) assert.equal(run.code, 0, run.stderr);
    const greedyDone = greedyJson.events.at(-1) as { type: string; text: string; tokens: number; promptTokens: number; temperature: number };
    const seededDone = seededJson.events.at(-1) as { type: string; text: string; tokens: number; seed: number; topK: number };
    // Two runs each: piped, the continuation is one write of the whole text and a newline; --json carries it.
    assert.equal(greedy.stdout, `${greedyDone.text}\n`);
    assert.equal(seeded.stdout, `${seededDone.text}\n`);
    assert.ok(greedyDone.text.length > 0 && seededDone.text.length > 0);
    assert.notEqual(seededDone.text, greedyDone.text);
    assert.deepEqual([greedyDone.type, greedyDone.tokens, greedyDone.promptTokens, greedyDone.temperature], ['done', 12, 7, 0]); // "Ham", ".", " To", " be", ",", " or", " not"
    assert.deepEqual([seededDone.tokens, seededDone.seed, seededDone.topK], [12, 7, 50]);
  });

  test('on a terminal (an io that can write without a newline) the continuation comes piece by piece, the same text as piped', async () => {
    const pieces: string[] = [];
    const lines: string[] = [];
    const terminal = { out: (line: string) => void lines.push(line), err: (line: string) => void lines.push(line), write: (text: string) => void pieces.push(text) };
    const args = ['--model', lmDir, '--prompt', 'Ham. To be, or not', '--tokens', '12', '--temperature', '0'];

    const [code, piped] = [await generateCommand(args, terminal), await disco(['generate', ...args])];

    assert.equal(code, 0, lines.join('\n'));
    assert.deepEqual(lines, []);
    assert.ok(pieces.length > 2, `${pieces.length} pieces`);
    assert.equal(pieces.at(-1)?.endsWith('\n'), true);
    assert.equal(pieces.join(''), piped.stdout);
  });

  test('refusals: a missing folder, a folder without its task, a model of another task, an empty prompt, bad numbers; --task for a folder without task.json', async () => {
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
      disco(['generate', '--model', bare, '--task', taskFile, '--prompt', 'Hi', '--tokens', '2', '--temperature', '0', '--json']),
    ]);

    assert.equal(absent.code, 1);
    assert.equal(absent.stderr, `disco: ${missing}: no such model folder\n`);
    assert.equal(noTask.code, 1);
    assert.ok(noTask.stderr.startsWith(`disco: ${bare} holds no task.json, so its tokenizer and context length are unknown: pass --task <id|file.json>`), noTask.stderr);
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
    assert.equal((withTask.events.at(-1) as { tokens: number }).tokens, 2);
  });
});
