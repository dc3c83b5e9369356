import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from '../src/server.js';
import { disco } from './cli-helpers.js';
import { evaluateText, MARGIN, smallShakespeare, writeHeldOutText, writeTextShards } from './lm-helpers.js';

/**
 * A language model trained by two `disco train --scheme decentralized` peer processes on their own `.txt` files:
 * the models travel between them over WebRTC, the server (in this process, with only this task) introduces them.
 * Both end with the same model, saved with its task by `--out`, far less perplexed on text nobody trained on than
 * the task's version 0. (Peers in separate processes: in one process, as `simulate` runs them, a peer's training
 * steps of several seconds starve the other's connection attempts on this loaded machine.)
 */

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-lm-decentralized-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(`two peers train a GPT on their own .txt files: the same model on both, ${MARGIN}× less perplexed than version 0 on Macbeth`, async (t) => {
  const task = smallShakespeare({ id: 'lm-p2p', scheme: 'decentralized' });
  const server = await startServer({ port: 0, dbPath: path.join(dir, 'lm.sqlite'), builtinTasks: [task] });
  t.after(() => server.close());
  const shards = writeTextShards(dir, 2);
  const macbeth = writeHeldOutText(dir);
  const outs = shards.map((_, i) => path.join(dir, `peer-${i + 1}`));

  const runs = await Promise.all(
    // Connecting overlaps the first round's training, whose steps take seconds here: 30 s per attempt, not 5.
    shards.map((data, i) =>
      disco(['train', '--scheme', 'decentralized', '--server', server.url, '--task', task.id, '--data', data, '--out', outs[i], '--connect-timeout', '30', '--json'], { timeoutMs: 220_000 }),
    ),
  );

  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    const rounds = run.events.filter((e) => e.type === 'round') as { round: number; participants: number; metrics: { valPerplexity: number } }[];
    const warnings = run.events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => e.message);
    assert.deepEqual(rounds.map((r) => [r.round, r.participants]), [[1, 2], [2, 2]], warnings.join('\n'));
    assert.ok(rounds.every((r) => r.metrics.valPerplexity > 1), JSON.stringify(rounds.map((r) => r.metrics)));
    assert.equal(run.events.at(-1)?.type, 'done');
  }
  const weights = outs.map((out) => readFileSync(path.join(out, 'weights.bin')));
  assert.ok(weights[0].equals(weights[1]), 'both peers saved the same model');
  assert.deepEqual(JSON.parse(readFileSync(path.join(outs[0], 'task.json'), 'utf8')), JSON.parse(JSON.stringify(task)));
  // The start: the task's version 0, which every peer starts from.
  const start = path.join(dir, 'v0');
  const pull = await disco(['models', 'pull', '--server', server.url, '--task', task.id, '--version', '0', '--out', start]);
  assert.equal(pull.code, 0, pull.stderr);
  const [initial, final] = await Promise.all([evaluateText(start, macbeth), evaluateText(outs[0], macbeth)]);
  t.diagnostic(`perplexity on ${final.tokens} Macbeth tokens: ${initial.perplexity.toFixed(0)} at version 0, ${final.perplexity.toFixed(0)} after 2 rounds`);
  assert.ok(final.perplexity * MARGIN < initial.perplexity, `perplexity on ${final.tokens} Macbeth tokens: ${initial.perplexity} at version 0, ${final.perplexity} after 2 rounds`);
});
