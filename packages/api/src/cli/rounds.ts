import type { RoundInfo } from '@disco/client';
import { integerOption, parseWithOperands, requireString, UsageError, type OptionSpec } from './args.js';
import { Reporter, type CliIo } from './output.js';
import { serverOf, table, when, withServer } from './remote.js';

/** `disco rounds --help`. */
export const roundsUsage = `Usage:
  disco rounds ls --task <id> [--limit n] [--server <url>] [--json]

Lists a federated task's rounds on a Disco server, newest first: phase, the model version each round
trained from and produced, participants and updates, examples, the mean metrics the participants
reported, duration, and for tasks with differential privacy the epsilon spent so far.

Options:
  --task <id>          the task's id on the server
  --limit <n>          how many of the newest rounds (default 100, at most 1000)
  --server <url>       the Disco server (default: the DISCO_SERVER environment variable)
  --json               print the rounds as one JSON line ({"type":"done","taskId","rounds":[...]})
  -h, --help           show this help`;

const options: OptionSpec = {
  task: { type: 'string' },
  limit: { type: 'string' },
  server: { type: 'string' },
  json: { type: 'boolean' },
};

/** `disco rounds ls`. */
export async function roundsCommand(argv: string[], io: CliIo): Promise<number> {
  const reporter = new Reporter({ json: argv.includes('--json'), io });
  try {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h') {
      io.out(roundsUsage);
      return 0;
    }
    if (sub !== 'ls' && sub !== 'list') throw new UsageError(sub === undefined ? 'missing the action: ls' : `unknown action "${sub}" (ls)`, roundsUsage);
    const { values, help } = parseWithOperands(rest, options, roundsUsage, []);
    if (help) {
      io.out(roundsUsage);
      return 0;
    }
    const taskId = requireString(values, 'task', roundsUsage);
    const limit = integerOption(values, 'limit', roundsUsage, { fallback: 100 }) as number;
    if (limit > 1000) throw new UsageError(`--limit must be at most 1000, got ${limit}`, roundsUsage);
    const server = serverOf(values, roundsUsage);
    const rounds = await withServer(server, undefined, (c) => c.rounds.list.query({ taskId, limit }));
    if (reporter.json) reporter.event({ type: 'done', taskId, rounds });
    else if (rounds.length === 0) io.out(`task "${taskId}" has no rounds`);
    else io.out(roundsTable(rounds));
    return 0;
  } catch (error) {
    reporter.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}

function roundsTable(rounds: RoundInfo[]): string {
  const withEpsilon = rounds.some((r) => r.epsilon !== null);
  const rows = rounds.map((r) => [
    String(r.number),
    r.phase,
    `v${r.baseVersion}${r.modelVersion === null ? '' : ` → v${r.modelVersion}`}`,
    `${r.submitted}/${r.participants}`,
    String(r.samples),
    num(r.metrics?.loss),
    num(r.metrics?.accuracy),
    r.durationMs === null ? '-' : `${(r.durationMs / 1000).toFixed(1)} s`,
    when(r.closedAt),
    ...(withEpsilon ? [r.epsilon === null ? '-' : `${r.epsilon.toFixed(3)} (δ ${r.delta})`] : []),
    r.failureReason ?? '',
  ]);
  const header = ['ROUND', 'PHASE', 'MODEL', 'UPDATES', 'EXAMPLES', 'LOSS', 'ACCURACY', 'DURATION', 'CLOSED', ...(withEpsilon ? ['EPSILON'] : []), 'FAILURE'];
  return table([header, ...rows]);
}

function num(value: number | undefined): string {
  return typeof value === 'number' ? value.toFixed(4) : '-';
}
