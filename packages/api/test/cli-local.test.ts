import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTabular, seededPermutation, titanic, womenSurviveAccuracy } from '@disco/core';
import { titanicCsvPath } from '@disco/core/node';
import { disco } from './cli-helpers.js';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disco-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// `train` holds out the task's validation split of its file (20 %, shuffled with the task's seed 42): the same 262
// passengers as the built-in test split. `evaluate` is run on exactly those, so both score passengers the model never
// trained on, and both must beat 0.80 and the women-survive rule on them (0.813: this split favours the rule).
const [header, ...passengers] = readFileSync(titanicCsvPath, 'utf8').trim().split('\n');
const heldOutRows = Array.from(seededPermutation(passengers.length, titanic.training.seed).subarray(0, Math.round(passengers.length * titanic.training.validationSplit)), (i) => passengers[i]);
const heldOutCsvText = [header, ...heldOutRows].join('\n');
const rule = womenSurviveAccuracy(parseTabular(heldOutCsvText, titanic));

describe('disco train --scheme local / disco evaluate', () => {
  let modelDir: string;
  let heldOutCsv: string;
  let trainAccuracy: number;

  test('train ends with the final accuracy as JSON and writes a TF.js model folder', async () => {
    modelDir = path.join(dir, 'model');
    const run = await disco(['train', '--task', 'titanic', '--data', titanicCsvPath, '--scheme', 'local', '--epochs', '10', '--json', '--out', modelDir]);

    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.ok(run.events.every((e) => typeof e.type === 'string'));
    assert.equal(run.events.filter((e) => e.type === 'epoch').length, 10);
    const done = run.events.at(-1) as { type: string; accuracy: number; loss: number; out: string };
    assert.equal(done.type, 'done');
    assert.ok(done.accuracy >= 0.8 && done.accuracy > rule, `accuracy ${done.accuracy}, women-survive rule ${rule}`);
    trainAccuracy = done.accuracy;
    assert.ok(done.loss > 0 && done.loss < 1);
    assert.equal(done.out, modelDir);
    const modelJson = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { format?: string; weightsManifest: { paths: string[]; weights: { name: string }[] }[] };
    assert.equal(modelJson.format, 'layers-model');
    assert.deepEqual(modelJson.weightsManifest[0].paths.map((p) => path.basename(p)), ['weights.bin']);
    assert.ok(existsSync(path.join(modelDir, 'weights.bin')));
  });

  test('evaluate measures the saved model on the held-out passengers: accuracy, loss, per class, confusion matrix', async () => {
    heldOutCsv = path.join(dir, 'held-out.csv');
    writeFileSync(heldOutCsv, heldOutCsvText);
    const json = await disco(['evaluate', '--task', 'titanic', '--model', modelDir, '--data', heldOutCsv, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const done = json.events.at(-1) as { type: string; accuracy: number; count: number; confusion: number[][]; perClass: unknown[] };
    assert.equal(done.type, 'done');
    assert.equal(done.count, 262);
    assert.ok(done.accuracy >= 0.8 && done.accuracy > rule, `accuracy ${done.accuracy}, women-survive rule ${rule}`);
    assert.ok(Math.abs(done.accuracy - trainAccuracy) < 1e-6, `evaluate ${done.accuracy} ≠ train's validation accuracy ${trainAccuracy}`);
    assert.equal(done.perClass.length, 2);
    assert.equal(done.confusion.flat().reduce((a, b) => a + b, 0), 262);

    const text = await disco(['evaluate', '--task', 'titanic', '--model', modelDir, '--data', heldOutCsv]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^262 examples · accuracy 0\.\d{4} · loss \d\.\d{4}$/m);
    assert.match(text.stdout, /^class\s+precision\s+recall\s+f1\s+support$/m);
  });

  test('a CSV without a required column fails with the data layer\'s message (exit 1)', async () => {
    const rows = readFileSync(titanicCsvPath, 'utf8').split('\n').slice(0, 20);
    const age = rows[0].split(',').indexOf('Age');
    // Titanic names hold commas inside quotes: drop the column from the end of each row instead.
    const noAge = rows.map((row) => {
      const cells = row.split(',');
      const fromEnd = rows[0].split(',').length - age;
      cells.splice(cells.length - fromEnd, 1);
      return cells.join(',');
    });
    const file = path.join(dir, 'no-age.csv');
    writeFileSync(file, noAge.join('\n'));
    const message = 'no-age.csv: missing required column "Age" (expected columns: Pclass, Sex, Age, SibSp, Parch, Fare, Embarked, Name, Cabin, Survived)';

    const run = await disco(['train', '--task', 'titanic', '--data', file, '--scheme', 'local', '--json']);

    assert.equal(run.code, 1);
    assert.equal(run.stderr, `disco: ${message}\n`);
    assert.deepEqual(run.events, [{ type: 'error', code: 'missing-column', message }]);
  });

  test('an invalid task file is refused with every problem listed', async () => {
    const file = path.join(dir, 'bad-task.json');
    writeFileSync(file, JSON.stringify({ id: 'Bad Id', title: '', dataType: 'tabular', model: { source: 'builtin', architecture: 'mnist-cnn' }, training: { batchSize: 0 } }));

    const run = await disco(['train', '--task', file, '--data', titanicCsvPath, '--scheme', 'local']);

    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      [
        `disco: ${file} is not a valid task (6 problems):`,
        '  - id: must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit',
        '  - title: Too small: expected string to have >=1 characters',
        '  - description: Invalid input: expected string, received undefined',
        '  - training.batchSize: Too small: expected number to be >=1',
        // The checks across fields are reported too, though fields are missing.
        '  - tabular: required when dataType is "tabular"',
        '  - model.architecture: "mnist-cnn" is built for image data, not tabular',
        '',
      ].join('\n'),
    );
  });

  test('usage errors exit with 2 and the usage; --help answers', async () => {
    const missing = await disco(['train', '--data', 'x.csv', '--scheme', 'local']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^disco: missing required option --task\n\nUsage:\n {2}disco train --task/);

    const unknown = await disco(['train', '--task', 'titanic', '--data', 'x.csv', '--epoch', '3', '--json']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.events[0].type, 'error');
    assert.equal(unknown.events[0].code, 'usage');
    assert.match(String(unknown.events[0].message), /Unknown option '--epoch'/);

    const help = await disco(['evaluate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage:\n {2}disco evaluate --model <dir> \[--task <id\|file.json>\] \[--data <path>\] \[--json\]/);

    const top = await disco(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /^Usage: disco <command> \[options\]/);
    assert.match(top.stdout, /simulate/);
  });
});
