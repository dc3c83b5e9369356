import { generateTokens, loadTokenizer, type Task } from '@disco/core';
import { loadModelFromDir } from '@disco/core/node';
import { choiceOption, CliError, integerOption, numberOption, optionalString, parseCommand, requireString, UsageError, type OptionSpec } from './args.js';
import { backends, resolveTask, startTf, withStopSignals } from './common.js';
import { taskOfModelDir, TASK_FILE } from './model-dir.js';
import { Reporter, type CliIo } from './output.js';

/** `disco generate --help`. */
export const generateUsage = `Usage:
  disco generate --model <dir> --prompt <text> [--tokens n] [--temperature t] [--top-k k] [--seed s] [--json]

Continues a text with a language model (a saved model of a text task, e.g. from "disco simulate --task
shakespeare --out <dir>", "disco train --out" or "disco models pull"). On a terminal the continuation is
printed token by token as it is generated; piped, it is printed once, whole. Only the continuation is
printed, not the prompt.

Options:
  --model <dir>        the model folder (model.json, weights.bin and the task.json the commands above
                       write beside them: its tokenizer and context length)
  --prompt <text>      the text to continue (not empty); only its last context-length tokens are read
  --tokens <n>         how many tokens to generate (default 100, at most 10000)
  --temperature <t>    0 for greedy decoding (always the most likely token: the same text every time);
                       above 0, sampling from the softmax of logits / t (default 0.8)
  --top-k <k>          sample only among the k most likely tokens (default 200; 0: all of them)
  --seed <s>           the seed of the sampling: the same seed, prompt and model give the same text
                       (default: a new one each time)
  --task <id|file>     the model's task, for a model folder without task.json (a built-in task id or a
                       task JSON file)
  --backend <name>     TF.js backend: wasm (default) or cpu
  --json               print one JSON line: {"type":"done","text",...}
  -h, --help           show this help`;

const options: OptionSpec = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  tokens: { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  task: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
};

/** Defaults of the sampling (nanoGPT's: sampled text reads better than greedy text, which soon loops). */
const DEFAULT_TOKENS = 100;
const DEFAULT_TEMPERATURE = 0.8;
const DEFAULT_TOP_K = 200;
const MAX_TOKENS = 10_000;

/** `disco generate`: a language model's continuation of a prompt. */
export async function generateCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io });
  try {
    const { values, help } = parseCommand(argv, options, generateUsage);
    if (help) {
      io.out(generateUsage);
      return 0;
    }
    const dir = requireString(values, 'model', generateUsage);
    if (values.prompt === undefined) throw new UsageError('missing required option --prompt', generateUsage);
    const prompt = String(values.prompt);
    if (prompt === '') throw new UsageError('--prompt is empty: give the text to continue', generateUsage);
    const maxTokens = integerOption(values, 'tokens', generateUsage, { fallback: DEFAULT_TOKENS }) as number;
    if (maxTokens > MAX_TOKENS) throw new UsageError(`--tokens must be at most ${MAX_TOKENS}, got ${maxTokens}`, generateUsage);
    const temperature = numberOption(values, 'temperature', generateUsage, { min: 0, max: 100, fallback: DEFAULT_TEMPERATURE }) as number;
    const topK = integerOption(values, 'top-k', generateUsage, { min: 0, fallback: DEFAULT_TOP_K }) as number;
    const seed = integerOption(values, 'seed', generateUsage, { min: 0 });
    const taskArg = optionalString(values, 'task');
    const backend = choiceOption(values, 'backend', backends, generateUsage, 'wasm');

    const task = await modelTask(dir, taskArg);
    const tokenizer = await loadTokenizer(task.text.tokenizer);
    const promptTokens = tokenizer.encode(prompt);
    await startTf(backend);
    const model = await loadModelFromDir(dir);
    try {
      checkLanguageModel(model.outputs[0]?.shape ?? [], tokenizer.vocabularySize, dir, task);
      const controller = new AbortController();
      // On a terminal the text appears as it is generated; piped, it is written once (scripts read whole lines).
      const stream = !reporter.json && io.write !== undefined;
      const decoder = tokenizer.streamDecoder();
      const generated: number[] = [];
      let text = '';
      const started = performance.now();
      await withStopSignals(
        () => controller.abort(),
        async () => {
          const tokens = generateTokens(model, promptTokens, {
            maxTokens,
            temperature,
            ...(topK > 0 && { topK }),
            ...(seed !== undefined && { seed }),
            signal: controller.signal,
          });
          try {
            for await (const token of tokens) {
              generated.push(token);
              const piece = decoder.push(token);
              text += piece;
              if (stream && piece) io.write?.(piece);
            }
          } catch (error) {
            // Ctrl-C: keep what was generated.
            if (!controller.signal.aborted) throw error;
          }
        },
      );
      const rest = decoder.flush();
      text += rest;
      const seconds = (performance.now() - started) / 1000;
      if (stream) io.write?.(`${rest}\n`);
      else if (reporter.json)
        reporter.event({
          type: 'done',
          text,
          tokens: generated.length,
          promptTokens: Math.min(promptTokens.length, task.text.contextLength),
          temperature,
          ...(temperature > 0 && topK > 0 && { topK }),
          ...(seed !== undefined && { seed }),
          seconds,
          tokensPerSecond: generated.length / seconds,
          ...(controller.signal.aborted && { stopped: true }),
        });
      else io.out(text);
      return controller.signal.aborted ? 130 : 0;
    } finally {
      model.dispose();
    }
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}

/** A text task: one whose `text` settings (tokenizer, context length) are set. */
type TextTask = Task & { text: NonNullable<Task['text']> };

/** The task of the model in `dir`: its task.json, or `--task`; refused unless it is a text task. */
async function modelTask(dir: string, taskArg: string | undefined): Promise<TextTask> {
  const saved = await taskOfModelDir(dir);
  const task = taskArg ? await resolveTask(taskArg) : saved;
  if (!task)
    throw new CliError(
      'no-task',
      `${dir} holds no ${TASK_FILE}, so its tokenizer and context length are unknown: pass --task <id|file.json> (the model's task), or save the model with "disco train --out", "disco simulate --out" or "disco models pull", which write it`,
    );
  if (task.dataType !== 'text' || !task.text)
    throw new CliError('not-a-language-model', `the model in ${dir} is for task "${task.id}" (${task.dataType} data): "disco generate" needs a language model, trained for a text task`);
  return task as TextTask;
}

/** Refuses a model whose output is not one distribution over the tokenizer's vocabulary per position. */
function checkLanguageModel(outputShape: readonly (number | null)[], vocabularySize: number, dir: string, task: Task): void {
  if (outputShape.length !== 3 || outputShape[2] !== vocabularySize)
    throw new CliError(
      'not-a-language-model',
      `the model in ${dir} outputs [${outputShape.map((d) => d ?? 'null').join(',')}], not next-token scores over the ${vocabularySize} tokens of task "${task.id}": it is not a language model of that task`,
    );
}
