import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskSummary } from '@disco/client';
import { CliError, parseWithOperands, UsageError, type OptionSpec } from './args.js';
import { Reporter, type CliIo } from './output.js';
import { adminTokenOf, serverOf, table, when, withServer } from './remote.js';

/** `disco tasks --help`. */
export const tasksUsage = `Usage:
  disco tasks ls [--server <url>] [--json]
  disco tasks show <id> [--server <url>] [--json]
  disco tasks create <task.json> [--model <dir>] [--server <url>] [--admin-token <t>] [--json]
  disco tasks delete <id> [--server <url>] [--admin-token <t>] [--json]

Manages the tasks of a Disco server. "ls" lists them (participants now, rounds closed, the latest
model version); "show" prints one task's definition and state; "create" adds the task of a JSON file
(checked by the server: an invalid one is refused with every problem listed); "delete" removes a task
with its model versions, rounds and participants.

Options:
  --server <url>       the Disco server (default: the DISCO_SERVER environment variable)
  --admin-token <t>    create, delete: the server's admin token (default: DISCO_ADMIN_TOKEN)
  --model <dir>        create: the task's model, for "model": { "source": "tfjs" }: a TF.js model folder
                       (model.json and the weight files it names, e.g. from "disco train --out" or
                       "disco models pull")
  --json               print the result as one JSON line ({"type":"done",...})
  -h, --help           show this help`;

const options: OptionSpec = {
  server: { type: 'string' },
  'admin-token': { type: 'string' },
  model: { type: 'string' },
  json: { type: 'boolean' },
};

const operands: Record<string, string[]> = { ls: [], list: [], show: ['id'], create: ['task.json'], delete: ['id'] };

/** `disco tasks ls|show|create|delete`. */
export async function tasksCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io });
  try {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      if (sub === undefined) throw new UsageError('missing the action: ls, show, create or delete', tasksUsage);
      io.out(tasksUsage);
      return 0;
    }
    const names = operands[sub];
    if (!names) throw new UsageError(`unknown action "${sub}" (ls, show, create, delete)`, tasksUsage);
    const { values, help, operands: args } = parseWithOperands(rest, options, tasksUsage, names);
    if (help) {
      io.out(tasksUsage);
      return 0;
    }
    if (values.model !== undefined && sub !== 'create') throw new UsageError('--model is for "disco tasks create"', tasksUsage);
    const server = serverOf(values, tasksUsage);

    if (sub === 'ls' || sub === 'list') {
      const tasks = await withServer(server, undefined, (c) => c.tasks.list.query());
      if (reporter.json) reporter.event({ type: 'done', tasks });
      else if (tasks.length === 0) io.out(`no tasks on ${server}`);
      else io.out(tasksTable(tasks));
      return 0;
    }
    if (sub === 'show') {
      const summary = await withServer(server, undefined, (c) => c.tasks.get.query({ id: args[0] }));
      if (reporter.json) reporter.event({ type: 'done', ...summary });
      else io.out(describeTask(summary));
      return 0;
    }
    if (sub === 'create') {
      const token = adminTokenOf(values, tasksUsage, 'creating a task');
      const task = await readJson(args[0], 'task file');
      const modelDir = typeof values.model === 'string' ? values.model : undefined;
      const model = modelDir ? await readModelDir(modelDir) : undefined;
      const summary = await withServer(server, token, (c) => c.tasks.create.mutate({ task, model }));
      if (reporter.json) reporter.event({ type: 'done', ...summary });
      else io.out(`created task "${summary.task.id}" on ${server} (${summary.task.scheme}, ${summary.parameterCount} parameters${summary.uploadedModel ? ', uploaded model' : ''})`);
      return 0;
    }
    const token = adminTokenOf(values, tasksUsage, 'deleting a task');
    const { deleted } = await withServer(server, token, (c) => c.tasks.delete.mutate({ id: args[0] }));
    if (reporter.json) reporter.event({ type: 'done', deleted });
    else io.out(`deleted task "${deleted}" from ${server}`);
    return 0;
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}

function tasksTable(tasks: TaskSummary[]): string {
  const rows = tasks.map((s) => [
    s.task.id,
    s.task.scheme,
    String(s.participants),
    s.task.scheme === 'federated' ? `${s.roundsClosed}/${s.task.training.rounds}` : '-',
    `v${s.latestVersion}`,
    s.builtin ? 'built-in' : when(s.createdAt),
    s.task.title,
  ]);
  return table([['ID', 'SCHEME', 'PARTICIPANTS', 'ROUNDS', 'MODEL', 'CREATED', 'TITLE'], ...rows]);
}

function describeTask(s: TaskSummary): string {
  const round = s.currentRound ? `round ${s.currentRound.number} ${s.currentRound.phase}${s.currentRound.deadline ? ` until ${when(s.currentRound.deadline)}` : ''}` : '-';
  const lines = [
    `${s.task.id} · ${s.task.title}`,
    `scheme          ${s.task.scheme}`,
    `participants    ${s.participants} now (at least ${s.task.minParticipants} a round)`,
    `rounds closed   ${s.roundsClosed} of ${s.task.training.rounds}`,
    `current round   ${round}`,
    `model           v${s.latestVersion} · ${s.parameterCount} parameters · ${s.uploadedModel ? 'uploaded' : s.task.model.source}`,
    `created         ${s.builtin ? 'built-in' : when(s.createdAt)}`,
    'definition',
    // Indented, so that no line of the human output reads as one of --json's JSON lines.
    JSON.stringify(s.task, null, 2).replace(/^/gm, '  '),
  ];
  return lines.join('\n');
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError('task-file', `cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError('invalid-json', `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A TF.js model folder as the API takes it: model.json and the weight files its manifest names, concatenated, as base64. */
async function readModelDir(dir: string): Promise<{ modelJson: Record<string, unknown>; weightsBase64: string }> {
  const modelJson = await readJson(path.join(dir, 'model.json'), 'model file');
  if (!modelJson || typeof modelJson !== 'object' || Array.isArray(modelJson)) throw new CliError('invalid-model', `${path.join(dir, 'model.json')} is not a TF.js model.json (not an object)`);
  const manifest = (modelJson as { weightsManifest?: unknown }).weightsManifest;
  const paths = Array.isArray(manifest) ? manifest.flatMap((group) => (Array.isArray((group as { paths?: unknown }).paths) ? ((group as { paths: unknown[] }).paths.map(String)) : [])) : [];
  if (paths.length === 0) throw new CliError('invalid-model', `${path.join(dir, 'model.json')} names no weight files (weightsManifest[].paths)`);
  const parts: Buffer[] = [];
  for (const p of paths) {
    const file = path.resolve(dir, p);
    if (path.relative(path.resolve(dir), file).startsWith('..')) throw new CliError('invalid-model', `model.json names a weight file outside ${dir}: ${p}`);
    try {
      parts.push(await readFile(file));
    } catch (error) {
      throw new CliError('invalid-model', `cannot read the weight file ${file}: ${(error as Error).message}`);
    }
  }
  return { modelJson: modelJson as Record<string, unknown>, weightsBase64: Buffer.concat(parts).toString('base64') };
}
