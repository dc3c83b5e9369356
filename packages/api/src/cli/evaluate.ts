import { writeFile } from 'node:fs/promises';
import { evaluateModel, predict, predictionsToCsv } from '@disco/core';
import { loadDataFromPath, loadModelFromDir } from '@disco/core/node';
import { choiceOption, optionalString, parseCommand, requireString, UsageError, type OptionSpec } from './args.js';
import { backends, resolveTask, startTf } from './common.js';
import { Reporter, type CliIo } from './output.js';

/** `disco evaluate --help`. */
export const evaluateUsage = `Usage:
  disco evaluate --task <id|file.json> --model <dir> --data <path> [--json]

Measures a saved model (a TF.js model folder, e.g. written by "disco train --out") on labelled data:
accuracy, loss, precision and recall per class, and the confusion matrix.

Options:
  --task <id|file>      a built-in task (titanic, mnist, cifar10) or a task JSON file
  --model <dir>         the folder holding model.json and weights.bin
  --data <path>         labelled data in the task's format (CSV file, image folder, ...)
  --predictions <file>  also write every prediction to this CSV file
  --backend <name>      TF.js backend: wasm (default) or cpu
  --json                print the result as one JSON line
  -h, --help            show this help`;

const options: OptionSpec = {
  task: { type: 'string' },
  model: { type: 'string' },
  data: { type: 'string' },
  predictions: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
};

/** How many of the most confident mistakes the report lists. */
const LISTED_MISTAKES = 10;

/** `disco evaluate`: a saved model's metrics on labelled data. */
export async function evaluateCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io });
  try {
    const { values, help } = parseCommand(argv, options, evaluateUsage);
    if (help) {
      io.out(evaluateUsage);
      return 0;
    }
    const task = await resolveTask(requireString(values, 'task', evaluateUsage));
    const modelDir = requireString(values, 'model', evaluateUsage);
    const dataPath = requireString(values, 'data', evaluateUsage);
    const predictionsFile = optionalString(values, 'predictions');
    await startTf(choiceOption(values, 'backend', backends, evaluateUsage, 'wasm'));

    const model = await loadModelFromDir(modelDir, { task });
    const dataset = await loadDataFromPath(dataPath, task, { requireLabels: true });
    const report = evaluateModel(model, dataset);
    if (predictionsFile) await writeFile(predictionsFile, predictionsToCsv(predict(model, dataset), dataset.classes));
    model.dispose();

    if (!reporter.json) {
      io.out(`${report.count} examples · accuracy ${report.accuracy.toFixed(4)} · loss ${report.loss.toFixed(4)}`);
      io.out('');
      io.out(formatPerClass(report.perClass));
      io.out('');
      io.out(formatConfusion(report.confusion, dataset.classes));
      if (predictionsFile) io.out(`\npredictions written to ${predictionsFile}`);
      return 0;
    }
    reporter.event({
      type: 'done',
      accuracy: report.accuracy,
      loss: report.loss,
      count: report.count,
      perClass: report.perClass,
      confusion: report.confusion,
      misclassified: report.misclassified.slice(0, LISTED_MISTAKES),
      ...(predictionsFile && { predictions: predictionsFile }),
    });
    return 0;
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}

function formatPerClass(perClass: { label: string; precision: number; recall: number; f1: number; support: number }[]): string {
  const width = Math.max(5, ...perClass.map((c) => c.label.length));
  const rows = perClass.map(
    (c) => `${c.label.padEnd(width)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(5)}  ${String(c.support).padStart(7)}`,
  );
  return [`${'class'.padEnd(width)}  precision  recall     f1  support`, ...rows].join('\n');
}

function formatConfusion(confusion: number[][], classes: string[]): string {
  const width = Math.max(5, ...classes.map((c) => c.length), ...confusion.flat().map((n) => String(n).length));
  const header = `${'true \\ predicted'.padEnd(16)} ${classes.map((c) => c.padStart(width)).join(' ')}`;
  const rows = confusion.map((row, i) => `${classes[i].padEnd(16)} ${row.map((n) => String(n).padStart(width)).join(' ')}`);
  return [header, ...rows].join('\n');
}
