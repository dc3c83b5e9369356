import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTask, type TaskInput } from '../task/schema.js';
import { titanic } from '../task/builtin/titanic.js';
import { DataError } from './errors.js';
import { parseTabular, tabularFeatureNames, tabularFileColumns } from './tabular.js';

const header = 'PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked';
const row = (values: Partial<Record<string, string>> = {}) => {
  const base: Record<string, string> = {
    PassengerId: '1', Survived: '1', Pclass: '1', Name: '"Allen, Miss. Elisabeth"', Sex: 'female', Age: '29',
    SibSp: '0', Parch: '0', Ticket: '24160', Fare: '211.3375', Cabin: 'B5', Embarked: 'S',
  };
  return header.split(',').map((c) => values[c] ?? base[c]).join(',');
};
const csv = (...rows: string[]) => [header, ...rows].join('\n');

function small(preprocessing: TaskInput['preprocessing']) {
  return parseTask({
    id: 'small', title: 'small', description: 'd', dataType: 'tabular',
    tabular: { inputColumns: ['a', 'b'], outputColumn: 'y', labels: ['no', 'yes'] },
    preprocessing, model: { source: 'builtin', architecture: 'tabular-mlp' },
  });
}

test('a valid Titanic row becomes the one-hot and standardized feature vector', () => {
  const ds = parseTabular(csv(row()), titanic);
  assert.equal(ds.count, 1);
  assert.deepEqual(ds.featureShape, [19]);
  assert.deepEqual(tabularFeatureNames(titanic).slice(0, 6), ['Pclass=1', 'Pclass=2', 'Pclass=3', 'Sex=female', 'Sex=male', 'Age']);
  assert.deepEqual(tabularFeatureNames(titanic).slice(12), ['Title=Mr', 'Title=Mrs', 'Title=Miss', 'Title=Master', 'Title=rare', 'Relatives', 'NoCabin']);
  const f = Array.from(ds.features);
  assert.deepEqual(f.slice(0, 5), [1, 0, 0, 1, 0]);
  assert.ok(Math.abs(f[5] - (29 - 29.5032) / 12.9003) < 1e-5);
  assert.deepEqual(f.slice(9, 12), [0, 0, 1]);
  // Miss, no relatives ((0 - 0.8839) / 1.583), cabin known.
  assert.deepEqual(f.slice(12, 17), [0, 0, 1, 0, 0]);
  assert.ok(Math.abs(f[17] - (0 - 0.8839) / 1.583) < 1e-5);
  assert.equal(f[18], 0);
  assert.deepEqual(Array.from(ds.labels!), [1]);
  assert.deepEqual(ds.classes, ['0', '1']);
  assert.deepEqual(ds.sources, ['data.csv, line 2']);
});

test('empty values are filled by the fill-missing steps', () => {
  const ds = parseTabular(csv(row({ Age: '', Fare: '', Embarked: '' })), titanic);
  const f = Array.from(ds.features);
  assert.ok(Math.abs(f[5] - (28 - 29.5032) / 12.9003) < 1e-5);
  assert.ok(Math.abs(f[8] - (Math.log1p(14.4542) - 2.9792) / 0.968) < 1e-5);
  assert.deepEqual(f.slice(9, 12), [0, 0, 1]);
});

test('a missing column is named with the expected columns', () => {
  const text = 'Pclass,Name,Sex,SibSp,Parch,Fare,Cabin,Embarked,Survived\n1,"Allen, Mr. A",male,0,0,7,,S,0';
  assert.throws(() => parseTabular(text, titanic), {
    name: 'DataError',
    code: 'missing-column',
    message: 'data.csv: missing required column "Age" (expected columns: Pclass, Sex, Age, SibSp, Parch, Fare, Embarked, Name, Cabin, Survived)',
  });
});

test('several missing columns are all named, the columns that derived ones are read from among them', () => {
  // The layout of Titanic files before the task read Name and Cabin.
  const text = 'Pclass,Sex,SibSp,Parch,Embarked,Survived\n1,male,0,0,S,0';
  assert.throws(() => parseTabular(text, titanic, { source: 'mine.csv' }), {
    code: 'missing-column',
    column: 'Age',
    message: 'mine.csv: missing required columns "Age", "Fare", "Name", "Cabin" (expected columns: Pclass, Sex, Age, SibSp, Parch, Fare, Embarked, Name, Cabin, Survived)',
  });
});

test('the output column is not required for prediction, and labels are then null', () => {
  const text = 'Pclass,Name,Sex,Age,SibSp,Parch,Fare,Cabin,Embarked\n1,"Allen, Mr. A",male,30,0,0,7,,S';
  const ds = parseTabular(text, titanic, { requireLabels: false });
  assert.equal(ds.labels, null);
  assert.equal(ds.count, 1);
});

test('a non-numeric value is reported with its line and column', () => {
  const rows = Array.from({ length: 6 }, () => row());
  rows[5] = row({ Age: 'abc' });
  try {
    parseTabular(csv(...rows), titanic);
    assert.fail('expected a DataError');
  } catch (error) {
    assert.ok(error instanceof DataError);
    assert.equal(error.message, 'data.csv, line 7, column "Age": "abc" is not a number');
    assert.equal(error.code, 'not-numeric');
    assert.equal(error.line, 7);
    assert.equal(error.column, 'Age');
    assert.equal(error.file, 'data.csv');
  }
});

test('an unknown label is reported with the expected labels', () => {
  const rows = Array.from({ length: 8 }, () => row());
  rows[7] = row({ Survived: 'maybe' });
  assert.throws(() => parseTabular(csv(...rows), titanic), {
    code: 'unknown-label',
    message: 'data.csv, line 9, column "Survived": unknown label "maybe" (expected one of: 0, 1)',
  });
});

test('an empty numeric value without a fill-missing step is a missing value', () => {
  const rows = [row(), row(), row({ SibSp: '' })];
  assert.throws(() => parseTabular(csv(...rows), titanic), {
    code: 'missing-value',
    message: 'data.csv, line 4, column "SibSp": missing value and the task has no fill-missing step for this column',
  });
  const task = small([]);
  assert.throws(() => parseTabular('a,b,y\n1,2,no\n3,4,yes\n5,,no', task), {
    message: 'data.csv, line 4, column "b": missing value and the task has no fill-missing step for this column',
  });
});

test('a category outside the one-hot list encodes as all zeros', () => {
  const ds = parseTabular(csv(row({ Embarked: 'X' })), titanic);
  assert.deepEqual(Array.from(ds.features.slice(9, 12)), [0, 0, 0]);
});

test('several bad rows give one error listing up to 10 problems, and keep them all', () => {
  const rows = Array.from({ length: 12 }, (_, i) => row({ Age: `x${i}` }));
  try {
    parseTabular(csv(...rows), titanic);
    assert.fail('expected a DataError');
  } catch (error) {
    assert.ok(error instanceof DataError);
    assert.equal(error.issues.length, 12);
    const lines = error.message.split('\n');
    assert.equal(lines.length, 11);
    assert.equal(lines[0], 'data.csv, line 2, column "Age": "x0" is not a number');
    assert.equal(lines[9], 'data.csv, line 11, column "Age": "x9" is not a number');
    assert.equal(lines[10], '… and 2 more problems');
  }
});

test('line numbers count blank lines and quoted values spanning lines', () => {
  const text = csv(row(), '', row({ Name: '"Two\nlines"' }), row({ Age: 'old' }));
  assert.throws(() => parseTabular(text, titanic), { message: 'data.csv, line 6, column "Age": "old" is not a number' });
});

test('min-max and log1p steps apply in order', () => {
  const task = small([
    { type: 'log1p', column: 'a' },
    { type: 'min-max', column: 'a', min: 0, max: 2 },
    { type: 'min-max', column: 'b', min: 10, max: 20 },
  ]);
  const ds = parseTabular('y,b,a\nyes,15,3', task);
  assert.ok(Math.abs(ds.features[0] - Math.log1p(3) / 2) < 1e-6);
  assert.equal(ds.features[1], 0.5);
  assert.deepEqual(Array.from(ds.labels!), [1]);
});

test('an empty file and a header without rows are refused', () => {
  assert.throws(() => parseTabular('  \n', titanic), { code: 'empty', message: 'data.csv: the file is empty' });
  assert.throws(() => parseTabular(header + '\n', titanic), { code: 'empty', message: 'data.csv: no data rows after the header' });
});

test('a byte-order mark and Windows line endings are accepted', () => {
  const ds = parseTabular('\uFEFF' + csv(row(), row()).replace(/\n/g, '\r\n') + '\r\n', titanic);
  assert.equal(ds.count, 2);
});

test('extract, sum and is-missing derive columns from the raw values of the file', () => {
  const task = parseTask({
    id: 'derived', title: 'derived', description: 'd', dataType: 'tabular',
    tabular: { inputColumns: ['Title', 'n', 'Family', 'NoCabin', 'Whole'], outputColumn: 'y', labels: ['no', 'yes'] },
    preprocessing: [
      { type: 'extract', from: 'Name', pattern: ',\\s*(Mr|Mrs|Miss|Master)\\.', into: 'Title' },
      { type: 'fill-missing', column: 'Title', value: 'rare' },
      { type: 'one-hot', column: 'Title', categories: ['Mr', 'Mrs', 'Miss', 'Master', 'rare'] },
      // Derived columns read the raw values: this fill-missing does not apply to the sum's "n".
      { type: 'fill-missing', column: 'n', value: 9 },
      { type: 'sum', from: ['n', 'm'], into: 'Family' },
      { type: 'is-missing', from: 'Cabin', into: 'NoCabin' },
      // Without a group, the whole match.
      { type: 'extract', from: 'Name', pattern: '[0-9]+', into: 'Whole' },
    ],
    model: { source: 'builtin', architecture: 'tabular-mlp' },
  });
  assert.deepEqual(tabularFileColumns(task), ['n', 'Name', 'm', 'Cabin']);
  assert.deepEqual(tabularFeatureNames(task), ['Title=Mr', 'Title=Mrs', 'Title=Miss', 'Title=Master', 'Title=rare', 'n', 'Family', 'NoCabin', 'Whole']);
  const text = [
    'y,Name,n,m,Cabin',
    'yes,"Allen, Miss. Elisabeth 2",1,2,B5',
    'no,"Smith, Rev. John 31",0,0,',
    'no,"Brown, Master. Tom 4",3,1.5,  ',
  ].join('\n');
  const ds = parseTabular(text, task);
  const rows = Array.from({ length: 3 }, (_, i) => Array.from(ds.features.slice(i * 9, (i + 1) * 9)));
  assert.deepEqual(rows, [
    [0, 0, 1, 0, 0, 1, 3, 0, 2],
    [0, 0, 0, 0, 1, 0, 0, 1, 31],
    [0, 0, 0, 1, 0, 3, 4.5, 1, 4],
  ]);
});

test('a derived value that cannot be computed is reported at the column it is read from', () => {
  const task = parseTask({
    id: 'derived', title: 'derived', description: 'd', dataType: 'tabular',
    tabular: { inputColumns: ['Family', 'Title'], outputColumn: 'y', labels: ['no', 'yes'] },
    preprocessing: [
      { type: 'sum', from: ['n', 'm'], into: 'Family' },
      { type: 'extract', from: 'Name', pattern: '(Mr|Mrs)\\.', into: 'Title' },
      { type: 'one-hot', column: 'Title', categories: ['Mr', 'Mrs'] },
    ],
    model: { source: 'builtin', architecture: 'tabular-mlp' },
  });
  assert.throws(() => parseTabular('y,n,m,Name\nno,1,,Mr.\nyes,x,1,Mrs.\nno,1,1,Dr.', task), {
    message: [
      'data.csv, line 2, column "m": missing value, needed for the sum "Family"',
      'data.csv, line 3, column "n": "x" is not a number',
      'data.csv, line 4, column "Title": missing value and the task has no fill-missing step for this column',
    ].join('\n'),
  });
  assert.throws(() => parseTabular('y,n,Name\nno,1,Mr.', task), {
    code: 'missing-column',
    message: 'data.csv: missing required column "m" (expected columns: n, m, Name, y)',
  });
});

test('a deriving step must derive an input column, once, from columns of the file', () => {
  const task = (preprocessing: TaskInput['preprocessing']) => small(preprocessing);
  assert.throws(() => tabularFeatureNames(task([{ type: 'is-missing', from: 'c', into: 'z' }])), {
    code: 'unsupported-task',
    message: 'the "is-missing" step derives "z", which is not one of the input columns (a, b)',
  });
  assert.throws(
    () =>
      tabularFeatureNames(task([
        { type: 'is-missing', from: 'c', into: 'a' },
        { type: 'is-missing', from: 'd', into: 'a' },
      ])),
    { message: 'column "a" is derived by more than one step' },
  );
  assert.throws(
    () =>
      tabularFeatureNames(task([
        { type: 'is-missing', from: 'c', into: 'a' },
        { type: 'sum', from: ['a', 'd'], into: 'b' },
      ])),
    { message: 'the "sum" step reads "a", a derived column: derive from the file\'s columns only' },
  );
});
