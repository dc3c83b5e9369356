import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '../task/schema.js';
import { admitAsyncUpdate, allowsRepeatUpdates, decideVersion, duplicateInBuffer, duplicateInBufferMessage } from './async-policy.js';

const settings = { maxStaleness: 3, stalenessWeighting: 'polynomial' as const, stalenessExponent: 0.5 };
const admit = (round: number, latestVersion: number) => admitAsyncUpdate({ taskId: 'titanic', round, latestVersion, settings });

test('a fresh update goes into the buffer of the next version with weight 1', () => {
  assert.deepEqual(admit(11, 10), { ok: true, version: 11, baseVersion: 10, staleness: 0, weight: 1 });
});

test('a stale update within maxStaleness is accepted with its staleness weight', () => {
  assert.deepEqual(admit(8, 10), { ok: true, version: 11, baseVersion: 7, staleness: 3, weight: 0.5 });
});

test('an update older than maxStaleness is refused with a message naming the current version', () => {
  const refusal = admit(7, 10);
  assert.equal(refusal.ok, false);
  assert.ok(!refusal.ok);
  assert.equal(refusal.code, 'STALE_UPDATE');
  assert.equal(
    refusal.message,
    'the update was trained from model version 6, 4 versions behind the current version 10; task "titanic" accepts updates at most 3 versions old: download version 10 and train again',
  );
});

test('a round whose base version does not exist yet is a wrong round', () => {
  for (const round of [12, 0, 1.5]) {
    const refusal = admit(round, 10);
    assert.ok(!refusal.ok);
    assert.equal(refusal.code, 'WRONG_ROUND');
    assert.match(refusal.message, /the current version is 10/);
  }
});

test('the first version takes updates trained from version 0', () => {
  assert.deepEqual(admit(1, 0), { ok: true, version: 1, baseVersion: 0, staleness: 0, weight: 1 });
});

const task = (strategy: string, noiseMultiplier?: number, bucketing?: { size: number }) =>
  ({ aggregation: { strategy, bucketing }, privacy: { noiseMultiplier, delta: 1e-5 } }) as unknown as Pick<Task, 'aggregation' | 'privacy'>;

test('only plain FedAvg without noise lets a participant add several updates to one buffer', () => {
  assert.equal(allowsRepeatUpdates(task('fedavg')), true);
  assert.equal(allowsRepeatUpdates(task('fedavg', 0)), true);
  assert.equal(allowsRepeatUpdates(task('fedavg', 1)), false);
  assert.equal(allowsRepeatUpdates(task('median')), false);
  assert.equal(allowsRepeatUpdates(task('krum', undefined, { size: 2 })), false);
});

test('the duplicate refusal says why and which version to train from', () => {
  assert.equal(
    duplicateInBufferMessage(task('fedavg', 1), 5),
    'this participant already has an update in the buffer of model version 5: differential privacy accounts each version with one update per participant; train from version 5 once it is published',
  );
  assert.match(duplicateInBufferMessage(task('median'), 5), /"median" counts each participant once/);
});

test('a retried submission counts once, even where repeats are allowed', () => {
  const buffered = [{ participantId: 'a', baseVersion: 4, checksum: 0xbeef }];
  assert.equal(
    duplicateInBuffer(task('fedavg'), buffered, { participantId: 'a', baseVersion: 4, checksum: 0xbeef }, 5),
    'this update (trained from model version 4, checksum 0000beef) is already in the buffer of model version 5: a retried submission counts once',
  );
  // Another training from the same version, or another participant's update: accepted.
  assert.equal(duplicateInBuffer(task('fedavg'), buffered, { participantId: 'a', baseVersion: 4, checksum: 0xcafe }, 5), undefined);
  assert.equal(duplicateInBuffer(task('median'), buffered, { participantId: 'b', baseVersion: 4, checksum: 0xbeef }, 5), undefined);
  // One update per participant: any second one is refused.
  assert.match(duplicateInBuffer(task('median'), buffered, { participantId: 'a', baseVersion: 3, checksum: 1 }, 5) ?? '', /"median" counts each participant once/);
});

test('a full buffer becomes a version', () => {
  assert.deepEqual(decideVersion({ buffered: 4, bufferSize: 4, pending: 3, minParticipants: 2, repeats: true }), { action: 'aggregate', reason: 'full' });
});

test('a buffer short of K waits while someone could still add to it', () => {
  assert.deepEqual(decideVersion({ buffered: 3, bufferSize: 4, pending: 1, minParticipants: 2, repeats: false }), { action: 'wait' });
  // With repeats, the participants already in the buffer can fill it.
  assert.deepEqual(decideVersion({ buffered: 3, bufferSize: 4, pending: 0, minParticipants: 2, repeats: true }), { action: 'wait' });
});

test('one update per participant: the buffer closes once every active participant is in it', () => {
  assert.deepEqual(decideVersion({ buffered: 2, bufferSize: 4, pending: 0, minParticipants: 2, repeats: false }), { action: 'aggregate', reason: 'everyone' });
  // … but never below minParticipants (or K when K is smaller), nor empty.
  assert.deepEqual(decideVersion({ buffered: 1, bufferSize: 4, pending: 0, minParticipants: 2, repeats: false }), { action: 'wait' });
  assert.deepEqual(decideVersion({ buffered: 0, bufferSize: 4, pending: 0, minParticipants: 0, repeats: false }), { action: 'wait' });
  assert.deepEqual(decideVersion({ buffered: 2, bufferSize: 2, pending: 0, minParticipants: 5, repeats: false }), { action: 'aggregate', reason: 'full' });
});
