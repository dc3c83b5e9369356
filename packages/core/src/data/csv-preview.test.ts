import { test } from 'node:test';
import assert from 'node:assert/strict';
import { previewCsv } from './csv-preview.js';

test('a comma CSV previews as its header and first records', () => {
  assert.deepEqual(previewCsv('a,b\n1,2\n3,4\n5,6\n', 2), [
    ['a', 'b'],
    ['1', '2'],
    ['3', '4'],
  ]);
});

test('the delimiter is detected: semicolons and tabs', () => {
  assert.deepEqual(previewCsv('name;age;fare\nAllen;29;211,34\nBrown;2;151,55\n'), [
    ['name', 'age', 'fare'],
    ['Allen', '29', '211,34'],
    ['Brown', '2', '151,55'],
  ]);
  assert.deepEqual(previewCsv('name\tage\r\nAllen\t29\r\n'), [
    ['name', 'age'],
    ['Allen', '29'],
  ]);
});

test('quoted values keep their delimiters, escaped quotes and line breaks', () => {
  assert.deepEqual(previewCsv('Name,Age\n"Allen, Miss. Elisabeth",29\n"say ""hi""\nagain",3\n'), [
    ['Name', 'Age'],
    ['Allen, Miss. Elisabeth', '29'],
    ['say "hi"\nagain', '3'],
  ]);
});

test('a byte-order mark and blank lines are skipped; a cut last record is kept short', () => {
  assert.deepEqual(previewCsv('\uFEFFa,b\n\n1,2\n3,'), [
    ['a', 'b'],
    ['1', '2'],
    ['3', ''],
  ]);
  assert.deepEqual(previewCsv(''), []);
});
