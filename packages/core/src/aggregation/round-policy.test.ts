import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRound, DEFAULT_MAX_MISSED_ROUNDS, isWaitedFor, missedRounds, type RoundPolicyInput } from './round-policy.js';

/** A round of a task needing 2 updates, 60 s long, at t = 10 000 with its deadline at t = 70 000. */
const base: RoundPolicyInput = {
  submitted: 0,
  pending: 3,
  active: 3,
  minParticipants: 2,
  deadlineAt: 70_000,
  now: 10_000,
  extensions: 0,
  maxExtensions: 2,
  roundDeadlineMs: 60_000,
};

test('a round without a clock and nobody active waits', () => {
  assert.deepEqual(decideRound({ ...base, deadlineAt: null, active: 0, pending: 0 }), { action: 'wait' });
});

test('a round without a clock starts it when someone is active', () => {
  assert.deepEqual(decideRound({ ...base, deadlineAt: null }), { action: 'start', deadlineAt: 70_000 });
});

test('a round waits before the deadline while expected participants have not sent', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 2, pending: 1 }), { action: 'wait' });
});

test('a round aggregates once every expected participant sent and there are enough', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 3, pending: 0 }), { action: 'aggregate' });
});

test('a round whose clock just started aggregates at once when everyone has already sent', () => {
  assert.deepEqual(decideRound({ ...base, deadlineAt: null, submitted: 2, pending: 0, active: 2 }), { action: 'aggregate' });
});

test('a round does not aggregate below minParticipants even when nobody else is expected', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 1, pending: 0, active: 1 }), { action: 'wait' });
});

test('at the deadline a round with enough updates aggregates without the late ones', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 2, pending: 1, now: 70_000 }), { action: 'aggregate' });
});

test('at the deadline a round short of updates is extended by one round length', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 1, pending: 2, now: 71_000 }), { action: 'extend', deadlineAt: 131_000, extensions: 1 });
});

test('a round short of updates after every extension fails, saying how many came', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 1, pending: 2, now: 71_000, extensions: 2 }), {
    action: 'fail',
    reason: 'only 1 of the 2 updates needed arrived before the deadline (extended 2 times)',
  });
});

test('at the deadline a round with no update and nobody active goes idle instead of failing', () => {
  assert.deepEqual(decideRound({ ...base, active: 0, pending: 0, now: 70_000, extensions: 2 }), { action: 'idle' });
});

test('at the deadline a round with no update but active participants is extended', () => {
  assert.deepEqual(decideRound({ ...base, now: 70_000 }), { action: 'extend', deadlineAt: 130_000, extensions: 1 });
});

test('sampling: when everyone active sent or sat the round out and too few were sampled, the round fails at once', () => {
  assert.deepEqual(decideRound({ ...base, submitted: 1, pending: 0, skipped: 2 }), {
    action: 'fail',
    reason: 'only 1 of the 2 updates needed: the other 2 participant(s) sat this round out (sampling)',
  });
  // Enough were sampled: it aggregates without waiting for the deadline; someone still training: it waits.
  assert.deepEqual(decideRound({ ...base, submitted: 2, pending: 0, skipped: 1 }), { action: 'aggregate' });
  assert.deepEqual(decideRound({ ...base, submitted: 1, pending: 1, skipped: 1 }), { action: 'wait' });
});

test('missed rounds: counted from the later of the first round and the last update, failed rounds included', () => {
  assert.equal(missedRounds({ round: 1, firstRound: 1, lastRound: null }), 0);
  assert.equal(missedRounds({ round: 3, firstRound: 1, lastRound: null }), 2);
  assert.equal(missedRounds({ round: 5, firstRound: 1, lastRound: 2 }), 2);
  assert.equal(missedRounds({ round: 5, firstRound: 4, lastRound: null }), 1);
  assert.equal(missedRounds({ round: 5, firstRound: 1, lastRound: 4 }), 0);
  // Joined for the next round (firstRound = round + 1): nothing missed yet.
  assert.equal(missedRounds({ round: 5, firstRound: 6, lastRound: null }), 0);
});

test('a participant that missed maxMissedRounds rounds in a row is not waited for, until it sends again', () => {
  const never = { firstRound: 1, lastRound: null };
  // k = 2: waited for in rounds 1 and 2, not from round 3.
  assert.deepEqual([1, 2, 3, 4].map((round) => isWaitedFor({ round, ...never }, 2)), [true, true, false, false]);
  // It sends in round 4: waited for again in round 5.
  assert.equal(isWaitedFor({ round: 5, firstRound: 1, lastRound: 4 }, 2), true);
  assert.equal(isWaitedFor({ round: 3, ...never }, DEFAULT_MAX_MISSED_ROUNDS), false);
});
