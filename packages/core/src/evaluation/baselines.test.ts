import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuiltinDataset } from '../data/node/builtin-data.js';
import { parseTabular } from '../data/tabular.js';
import { titanic } from '../task/builtin/titanic.js';
import { womenSurviveAccuracy } from './baselines.js';

const header = 'PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked';
const passenger = (survived: number, sex: string) => `1,${survived},3,"Doe, Mx. Sam",${sex},30,0,0,A1,8,,S`;

test('women survive, men die: right for a surviving woman and a dead man, wrong for the others', () => {
  const rows = [passenger(1, 'female'), passenger(0, 'male'), passenger(0, 'male'), passenger(0, 'female'), passenger(1, 'male')];
  assert.equal(womenSurviveAccuracy(parseTabular([header, ...rows].join('\n'), titanic)), 3 / 5);
});

test('the rule on the titanic3 passengers: 0.78 on all, 0.813 on the seeded test split', async () => {
  const [all, heldOut] = await Promise.all([loadBuiltinDataset('titanic', { split: 'all' }), loadBuiltinDataset('titanic', { split: 'test' })]);
  assert.equal(Math.round(womenSurviveAccuracy(all) * all.count), 1021); // 1,021 of 1,309 = 0.780
  assert.equal(Math.round(womenSurviveAccuracy(heldOut) * heldOut.count), 213); // 213 of 262 = 0.813
});

test('unlabelled data or a task without a Sex column is refused', () => {
  const unlabelled = parseTabular([header, passenger(1, 'female')].join('\n'), titanic, { requireLabels: false });
  assert.throws(() => womenSurviveAccuracy({ ...unlabelled, labels: null }), /labelled/);
  assert.throws(() => womenSurviveAccuracy(unlabelled, { ...titanic, id: 'x', tabular: { ...titanic.tabular!, inputColumns: ['Pclass'] }, preprocessing: [] }), /Sex=female/);
});
