import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getBuiltinTask, parseTask, type Task } from '@disco/core';
import { shakespeareTextPaths } from '@disco/core/node';
import { disco } from './cli-helpers.js';

/**
 * What the language-model tests through the CLI share: the Shakespeare task made small enough for this machine,
 * the participants' own `.txt` files, and a model's perplexity as `disco evaluate` reports it.
 *
 * The built-in task (context 64, batches of 8) would take many minutes here: most of a step is the output layer
 * scoring GPT-2's 50,257 tokens at every position. These tasks keep its model (a `nano` GPT) at context 16, in
 * batches of 4 at a learning rate of 0.01, for 2 rounds of 1 epoch.
 */

/** The context length of the tests' tasks. */
export const CONTEXT = 16;

/**
 * How much less perplexed than version 0 the final model must be on text nobody trained on. Measured: version 0
 * scores ~50,000 (every one of the 50,257 tokens about as likely); after 2 rounds of 2 participants 4,224 on the
 * Macbeth excerpt (federated and decentralized alike: both average the same two models) and 4,567 on simulate's
 * first 24 test windows, about 11× lower: 5× leaves twice that as headroom.
 */
export const MARGIN = 5;

/** The built-in Shakespeare task, small (see above), as `id` in `scheme`, for 2 participants. */
export function smallShakespeare(overrides: { id?: string; scheme?: Task['scheme'] } = {}): Task {
  const builtin = getBuiltinTask('shakespeare') as Task;
  return parseTask({
    ...builtin,
    ...overrides,
    text: { ...builtin.text, contextLength: CONTEXT },
    training: { ...builtin.training, rounds: 2, batchSize: 4, learningRate: 0.01 },
    minParticipants: 2,
    roundDeadlineSeconds: 120,
  });
}

/** About `chars` characters of a play from character `from`, cut at line ends. */
function excerpt(file: string, from: number, chars: number): string {
  const text = readFileSync(file, 'utf8');
  const start = from === 0 ? 0 : text.indexOf('\n', from) + 1;
  return text.slice(start, text.lastIndexOf('\n', start + chars) + 1);
}

/**
 * Each participant's own text: `n` consecutive excerpts of Julius Caesar of ~1,100 characters (about 350 GPT-2
 * tokens: 22 windows of 16, 2 held out for validation, 5 steps a round in batches of 4).
 */
export function writeTextShards(dir: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const file = path.join(dir, `part-${i + 1}.txt`);
    writeFileSync(file, excerpt(shakespeareTextPaths.train[0], i * 1_100, 1_100));
    return file;
  });
}

/** The beginning of Macbeth (~1,200 characters, about 25 windows of 16), which no participant trains on. */
export function writeHeldOutText(dir: string): string {
  const file = path.join(dir, 'macbeth-excerpt.txt');
  writeFileSync(file, excerpt(shakespeareTextPaths.test[0], 0, 1_200));
  return file;
}

/** What `disco evaluate --json` reports for a language model. */
export interface LanguageModelFigures {
  loss: number;
  perplexity: number;
  accuracy: number;
  tokens: number;
  count: number;
}

/** `disco evaluate --model <dir> --data <text> --json` (the folder's task.json says how to read the text). */
export async function evaluateText(modelDir: string, text: string): Promise<LanguageModelFigures> {
  const run = await disco(['evaluate', '--model', modelDir, '--data', text, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const done = run.events.at(-1) as unknown as LanguageModelFigures & { type: string };
  assert.equal(done.type, 'done');
  return done;
}
