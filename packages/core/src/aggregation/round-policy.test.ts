import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRound, type RoundPolicyInput } from './round-policy.js';

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
