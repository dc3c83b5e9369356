import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './args.js';
import { parseSpeeds } from './client-speeds.js';

test('--speeds: one slowness of at least 1 per client', () => {
  assert.deepEqual(parseSpeeds('1,1,1,5', 4, 'usage'), [1, 1, 1, 5]);
  assert.deepEqual(parseSpeeds(' 1, 2.5 ', 2, 'usage'), [1, 2.5]);
  assert.equal(parseSpeeds(undefined, 4, 'usage'), undefined);
});

test('--speeds: a missing, faster-than-1 or non-numeric speed, or one per client too few, is refused naming it', () => {
  assert.throws(() => parseSpeeds('1,2', 4, 'usage'), (e: unknown) => e instanceof UsageError && /2 speeds for 4 clients/.test(e.message));
  assert.throws(() => parseSpeeds('1,0.5', 2, 'usage'), (e: unknown) => e instanceof UsageError && /"1,0.5"/.test(e.message));
  assert.throws(() => parseSpeeds('1,,2', 3, 'usage'), UsageError);
  assert.throws(() => parseSpeeds('1,fast', 2, 'usage'), UsageError);
});
