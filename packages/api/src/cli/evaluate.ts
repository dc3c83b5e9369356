import { writeFile } from 'node:fs/promises';
import { evaluateLanguageModel, evaluateModel, predict, predictionsToCsv, type Task } from '@disco/core';
import { loadDataFromPath, loadModelFromDir } from '@disco/core/node';
import { choiceOption, CliError, optionalString, parseCommand, requireString, UsageError, type OptionSpec } from './args.js';
import { backends, bundledData, resolveTask, startTf } from './common.js';
import { taskOfModelDir, TASK_FILE } from './model-dir.js';
import { Reporter, type CliIo } from './output.js';

/** `disco evaluate --help`. */
export const evaluateUsage = `Usage:
  disco evaluate --model <dir> [--task <id|file.json>] [--data <path>] [--json]

Measures a saved model (a TF.js model folder, e.g. written by "disco train --out") on labelled data:
accuracy, loss, precision and recall per class, and the confusion matrix. A language model (a text
task) is measured on text: the mean cross-entropy per predicted token (loss), the perplexity exp(loss),
the share of tokens it predicts right (token accuracy) and how many tokens were predicted.

Options:
  --model <dir>         the folder holding model.json and weights.bin (and task.json, written beside
                        them by "disco train --out", "disco simulate --out" and "disco models pull")
  --task <id|file>      a built-in task (titanic, mnist, cifar10, shakespeare) or a task JSON file
                        (default: the model folder's task.json)
  --data <path>         labelled data in the task's format (CSV file, image folder, .txt files, ...);
                        default, for a task with data bundled with Disco (titanic, mnist, shakespeare),
                        its test part
  --predictions <file>  also write every prediction to this CSV file (not for language models)
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
    const modelDir = requireString(values, 'model', evaluateUsage);
    const taskArg = optionalString(values, 'task');
    const dataPath = optionalString(values, 'data');
    const predictionsFile = optionalString(values, 'predictions');
    const task = await evaluatedTask(modelDir, taskArg);
    if (predictionsFile && task.dataType === 'text') throw new UsageError('--predictions lists class predictions: a language model has none (its figures are per token)', evaluateUsage);
    await startTf(choiceOption(values, 'backend', backends, evaluateUsage, 'wasm'));

    const model = await loadModelFromDir(modelDir, { task });
    const dataset = dataPath ? await loadDataFromPath(dataPath, task, { requireLabels: true }) : await bundledData(task, 'test');
    if (task.dataType === 'text') {
      const lm = evaluateLanguageModel(model, dataset);
      model.dispose();
      if (reporter.json) reporter.event({ type: 'done', loss: lm.loss, perplexity: lm.perplexity, accuracy: lm.accuracy, tokens: lm.tokens, count: dataset.count });
      else io.out(`${lm.tokens} tokens in ${dataset.count} windows · loss ${lm.loss.toFixed(4)} · perplexity ${lm.perplexity.toFixed(2)} · token accuracy ${lm.accuracy.toFixed(4)}`);
      return 0;
    }
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

/** The model's task: `--task`, else the model folder's task.json; a usage error names both when neither is there. */
async function evaluatedTask(modelDir: string, taskArg: string | undefined): Promise<Task> {
  const saved = await taskOfModelDir(modelDir);
  if (taskArg) return resolveTask(taskArg);
  if (!saved) throw new CliError('no-task', `${modelDir} holds no ${TASK_FILE}: pass --task <id|file.json>, the task the model was trained for`);
  return saved;
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
