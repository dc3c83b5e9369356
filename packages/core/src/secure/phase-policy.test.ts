import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideSecurePhase, type SecurePhaseInput } from './phase-policy.js';

const base: SecurePhaseInput = { phase: 'masking', members: 4, received: 0, pending: 4, threshold: 3, deadlineAt: 10_000, now: 1_000 };

test('a secure step waits while members it waits for may still send and t is within reach', () => {
  assert.deepEqual(decideSecurePhase({ ...base, received: 1, pending: 3 }), { action: 'wait' });
  assert.deepEqual(decideSecurePhase({ ...base, received: 3, pending: 1 }), { action: 'wait' });
});

test('a secure step advances when every member sent, or at its deadline with at least t', () => {
  assert.deepEqual(decideSecurePhase({ ...base, received: 4, pending: 0 }), { action: 'advance' });
  assert.deepEqual(decideSecurePhase({ ...base, received: 3, pending: 1, now: 10_000 }), { action: 'advance' });
  // A member that vanished (no heartbeat) is not waited for.
  assert.deepEqual(decideSecurePhase({ ...base, received: 3, pending: 0 }), { action: 'advance' });
});

test('a secure step fails, naming the step and the counts, when fewer than t sent by the deadline or t is out of reach', () => {
  assert.deepEqual(decideSecurePhase({ ...base, received: 2, pending: 2, now: 10_000 }), {
    action: 'fail',
    reason: 'abandoned: only 2 of 4 masked inputs arrived, fewer than the threshold 3; nothing was unmasked',
  });
  assert.deepEqual(decideSecurePhase({ ...base, phase: 'sharing', received: 1, pending: 1 }), {
    action: 'fail',
    reason: 'abandoned: only 1 of 4 sets of shares arrived, fewer than the threshold 3; nothing was unmasked',
  });
  assert.deepEqual(decideSecurePhase({ ...base, phase: 'unmasking', members: 3, received: 2, pending: 0 }), {
    action: 'fail',
    reason: 'abandoned: only 2 of 3 sets of revealed shares arrived, fewer than the threshold 3; nothing was unmasked',
  });
});
