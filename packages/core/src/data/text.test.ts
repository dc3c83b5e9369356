import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTextLines } from './text.js';

test('text lines are trimmed and empty ones dropped', () => {
  assert.deepEqual(readTextLines('  To be,\r\n\n or not to be \rthat is\n   \n'), ['To be,', 'or not to be', 'that is']);
});
