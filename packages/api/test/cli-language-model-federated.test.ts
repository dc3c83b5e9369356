import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from '../src/server.js';
import { disco } from './cli-helpers.js';
import { evaluateText, MARGIN, smallShakespeare, writeHeldOutText, writeTextShards } from './lm-helpers.js';

/**
 * A language model trained by two `disco train --scheme federated` processes on their own `.txt` files against a
 * real server: the validation perplexity in every round line, and the global model's perplexity on text nobody
 * trained on, measured by `disco models pull` + `disco evaluate` at version 0 and at the end. The server runs in
 * this process with only this task (`disco serve` would first build the models of every built-in task).
 */

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-lm-federated-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(`two clients train a GPT on their own .txt files: valPerplexity in every round line, the global model ${MARGIN}× less perplexed than version 0 on Macbeth`, async (t) => {
  const task = smallShakespeare({ id: 'lm-federated' });
  const server = await startServer({ port: 0, dbPath: path.join(dir, 'lm.sqlite'), builtinTasks: [task] });
  t.after(() => server.close());
  const shards = writeTextShards(dir, 2);
  const macbeth = writeHeldOutText(dir);

  const runs = await Promise.all(shards.map((data) => disco(['train', '--server', server.url, '--task', task.id, '--data', data, '--scheme', 'federated', '--json'], { timeoutMs: 220_000 })));

  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    const rounds = run.events.filter((e) => e.type === 'round') as { round: number; metrics: { valLoss: number; valPerplexity: number; perplexity: number } }[];
    assert.deepEqual(rounds.map((r) => r.round), [1, 2]);
    for (const { metrics } of rounds) {
      assert.ok(metrics.valPerplexity > 1 && Math.abs(metrics.valPerplexity - Math.exp(metrics.valLoss)) < 1e-9 * metrics.valPerplexity, JSON.stringify(metrics));
      assert.ok(metrics.perplexity > 1, JSON.stringify(metrics));
    }
    const done = run.events.at(-1) as { type: string; modelVersion: number; perplexity: number; loss: number };
    assert.equal(done.type, 'done');
    assert.equal(done.modelVersion, 2);
    assert.ok(done.perplexity > 1 && Math.abs(done.perplexity - Math.exp(done.loss)) < 1e-9 * done.perplexity, JSON.stringify(done));
  }
  // Version 0 and the final version, each pulled with the task beside it, measured on the same Macbeth excerpt.
  const [start, end] = [path.join(dir, 'v0'), path.join(dir, 'v2')];
  const pulls = await Promise.all([
    disco(['models', 'pull', '--server', server.url, '--task', task.id, '--version', '0', '--out', start]),
    disco(['models', 'pull', '--server', server.url, '--task', task.id, '--out', end]),
  ]);
  for (const pull of pulls) assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(JSON.parse(readFileSync(path.join(end, 'task.json'), 'utf8')), JSON.parse(JSON.stringify(task)));
  const [initial, final] = await Promise.all([evaluateText(start, macbeth), evaluateText(end, macbeth)]);
  t.diagnostic(`perplexity on ${final.tokens} Macbeth tokens: ${initial.perplexity.toFixed(0)} at version 0, ${final.perplexity.toFixed(0)} at version 2`);
  assert.equal(final.tokens, initial.tokens);
  assert.ok(final.perplexity * MARGIN < initial.perplexity, `perplexity on ${final.tokens} Macbeth tokens: ${initial.perplexity} at version 0, ${final.perplexity} at version 2`);
});
