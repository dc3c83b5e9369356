import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { integerOption, parseWithOperands, requireString, UsageError, type OptionSpec } from './args.js';
import { Reporter, type CliIo } from './output.js';
import { writeTaskFile } from './model-dir.js';
import { download, serverOf, withServer } from './remote.js';

/** `disco models --help`. */
export const modelsUsage = `Usage:
  disco models pull --task <id> [--version n] --out <dir> [--server <url>] [--json]

Downloads a global model of a task on a Disco server as a TF.js model folder (model.json and
weights.bin, which tf.loadLayersModel reads) with the task's definition (task.json), which
"disco evaluate --model <dir>" and "disco generate --model <dir>" read.

Options:
  --task <id>          the task's id on the server
  --version <n>        the model version (default: the latest; 0 is the initial model)
  --out <dir>          the folder to write (created if needed; model.json, weights.bin and task.json are
                       replaced)
  --server <url>       the Disco server (default: the DISCO_SERVER environment variable)
  --json               print the result as one JSON line ({"type":"done","taskId","version","out",...})
  -h, --help           show this help`;

const options: OptionSpec = {
  task: { type: 'string' },
  version: { type: 'string' },
  out: { type: 'string' },
  server: { type: 'string' },
  json: { type: 'boolean' },
};

/** `disco models pull`. */
export async function modelsCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io });
  try {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h') {
      io.out(modelsUsage);
      return 0;
    }
    if (sub !== 'pull') throw new UsageError(sub === undefined ? 'missing the action: pull' : `unknown action "${sub}" (pull)`, modelsUsage);
    const { values, help } = parseWithOperands(rest, options, modelsUsage, []);
    if (help) {
      io.out(modelsUsage);
      return 0;
    }
    const taskId = requireString(values, 'task', modelsUsage);
    const out = requireString(values, 'out', modelsUsage);
    const requested = integerOption(values, 'version', modelsUsage, { min: 0 });
    const server = serverOf(values, modelsUsage);
    const base = `/v1/tasks/${encodeURIComponent(taskId)}/models`;
    const modelResponse = await download(server, `${base}/${requested ?? 'latest'}/model.json`);
    // "latest" may move between the two downloads: the weights are fetched by the version model.json answered for.
    const version = Number(modelResponse.headers.get('x-disco-model-version') ?? requested);
    const modelJson = await modelResponse.text();
    const weights = new Uint8Array(await (await download(server, `${base}/${version}/weights.bin`)).arrayBuffer());
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'model.json'), modelJson);
    await writeFile(path.join(out, 'weights.bin'), weights);
    // The task's definition beside the model: "disco generate" and "disco evaluate" read how its inputs are made.
    const { task } = await withServer(server, undefined, (c) => c.tasks.get.query({ id: taskId }));
    await writeTaskFile(out, task);
    if (reporter.json) reporter.event({ type: 'done', taskId, version, out, weightsBytes: weights.byteLength, parameters: weights.byteLength / 4 });
    else io.out(`task "${taskId}" model v${version} (${weights.byteLength / 4} parameters) written to ${out}`);
    return 0;
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}
