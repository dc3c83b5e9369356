import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLabel, labelsFromCsv } from './labels-csv.js';

test('a filename,label CSV maps names to labels, header optional', () => {
  assert.deepEqual([...labelsFromCsv('filename,label\nimg1.png,7\n./sub/img2.png, 3 \n')], [
    ['img1.png', '7'],
    ['sub/img2.png', '3'],
  ]);
  assert.deepEqual([...labelsFromCsv('a.png,cat')], [['a.png', 'cat']]);
});

test('a row without a label is reported', () => {
  assert.throws(() => labelsFromCsv('filename,label\na.png\n', { source: 'l.csv' }), {
    code: 'malformed',
    message: 'l.csv, row 2: expected a file name and a label, found "a.png"',
  });
});

test('labels are found by whole path or by trailing part', () => {
  const labels = labelsFromCsv('img1.png,7\nsub/img2.png,3');
  assert.equal(findLabel(labels, 'data/img1.png'), '7');
  assert.equal(findLabel(labels, 'data/sub/img2.png'), '3');
  assert.equal(findLabel(labels, 'other.png'), undefined);
});
