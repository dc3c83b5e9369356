import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEvent, progressWanted, ProgressBar, Reporter, type CliIo } from './output.js';

/** An io that records stdout lines and progress redraws. */
function recorder(): CliIo & { lines: string[]; bars: string[] } {
  const lines: string[] = [];
  const bars: string[] = [];
  return { lines, bars, out: (l) => lines.push(l), err: (l) => lines.push(`err: ${l}`), progress: (l) => bars.push(l) };
}

test('ProgressBar: rounds closed, then the epoch and batch of the next round', () => {
  const bar = new ProgressBar();
  assert.equal(bar.started, false);
  bar.update({ type: 'round', round: 1, rounds: 4 });
  assert.equal(bar.render(10), 'round 2/4 [###-------]  25%');
  bar.update({ type: 'epoch', epoch: 1, epochs: 2, round: 2 });
  bar.update({ type: 'batch', epoch: 2, batch: 5, batches: 10, round: 2 });
  // 1 round + (1 epoch + half an epoch) / 2 epochs of the second = 1.75 of 4.
  assert.equal(bar.fraction(), 1.75 / 4);
  assert.equal(bar.render(8), 'round 2/4 · epoch 2/2 · batch 5/10 [####----]  44%');
});

test('ProgressBar: a local session (epochs only)', () => {
  const bar = new ProgressBar();
  bar.update({ type: 'epoch', epoch: 3, epochs: 4 });
  assert.equal(bar.render(4), 'epoch 3/4 [###-]  75%');
});

test('Reporter: the bar is drawn on its own line and cleared before every printed line and at the end', () => {
  const io = recorder();
  const reporter = new Reporter({ json: false, io, progress: true });
  reporter.event({ type: 'batch', epoch: 1, batch: 1, batches: 2 });
  reporter.event({ type: 'epoch', epoch: 1, epochs: 2, loss: 0.5 });
  reporter.event({ type: 'done', accuracy: 0.8 });
  assert.deepEqual(io.lines, ['epoch 1/2  loss 0.5000', 'done · accuracy 0.8000']);
  assert.deepEqual(io.bars, ['epoch 1 · batch 1/2 [--------------------]   0%', '', 'epoch 1/2 [##########----------]  50%', '']);
});

test('Reporter: no bar with --json, nor where the io has no terminal', () => {
  const json = recorder();
  const reporter = new Reporter({ json: true, io: json, progress: true });
  assert.equal(reporter.progress, false);
  reporter.event({ type: 'epoch', epoch: 1, epochs: 2 });
  assert.deepEqual(json.bars, []);
  assert.deepEqual(json.lines.map((l) => JSON.parse(l) as unknown), [{ type: 'epoch', epoch: 1, epochs: 2 }]);
  const plain: CliIo = { out: () => undefined, err: () => undefined };
  assert.equal(new Reporter({ json: false, io: plain, progress: true }).progress, false);
});

test('progressWanted: DISCO_PROGRESS=1 forces the bar, 0 turns it off, else only on a terminal', () => {
  assert.equal(progressWanted({ DISCO_PROGRESS: '1' }), true);
  assert.equal(progressWanted({ DISCO_PROGRESS: '0' }), false);
  // The test runner pipes this process's output: not a terminal.
  if (!process.stdout.isTTY) assert.equal(progressWanted({}), false);
});

test('Reporter.track moves the bar without printing', () => {
  const io = recorder();
  const reporter = new Reporter({ json: false, io, progress: true });
  reporter.track({ type: 'epoch', epoch: 1, epochs: 4, round: 1 });
  assert.deepEqual(io.lines, []);
  assert.deepEqual(io.bars, ['round 1 · epoch 1/4 [#####---------------]  25%']);
  const json = recorder();
  new Reporter({ json: true, io: json, progress: true }).track({ type: 'epoch', epoch: 1, epochs: 4 });
  assert.deepEqual([json.lines, json.bars], [[], []]);
});

test('describeEvent: an asynchronous task\'s round event names the version, the model version and the staleness', () => {
  const line = describeEvent({ type: 'round', round: 3, rounds: 5, modelVersion: 2, staleness: 1, participants: 4, metrics: { loss: 0.5 } });
  const sync = describeEvent({ type: 'round', round: 3, rounds: 5, modelVersion: 3, participants: 4, metrics: { loss: 0.5 } });

  assert.match(line ?? '', /^update accepted for version 3\/5 · model v2 · staleness 1 · 4 participants/);
  assert.match(sync ?? '', /^round 3\/5 closed · model v3 · 4 participants/);
});

