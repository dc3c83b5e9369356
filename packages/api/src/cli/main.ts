import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { UsageError } from './args.js';
import { processIo, Reporter, type CliIo } from './output.js';

/**
 * The `disco` command line: `train`, `evaluate`, `generate`, `simulate`, `serve` and the operator commands `tasks`,
 * `rounds` and `models`. Each command lives in its own module, loaded only when used, so that
 * `disco --help` answers at once.
 */

/** The top-level help: the commands. */
export const usage = `Usage: disco <command> [options]

Commands:
  train      train a model on your data, alone (--scheme local) or with others (--scheme federated
             through a server, or --scheme decentralized peer to peer)
  evaluate   measure a saved model on labelled data (a language model: loss and perplexity on text)
  generate   continue a prompt with a saved language model (streamed on a terminal)
  simulate   run a federated (or decentralized) training of several simulated clients on a built-in
             data set
  serve      start the Disco API server
  tasks      list, show, create and delete the tasks of a server (ls, show <id>, create <task.json>,
             delete <id>)
  rounds     list the rounds of a server's task (ls --task <id>)
  models     download a global model version of a server's task as a TF.js model folder (pull)

Options:
  -v, --version  print the version
  -h, --help     show this help

Run "disco <command> --help" for the options of a command.`;

/** A command: parses its own arguments and returns the process exit code. */
export type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  train: async () => (await import('./train.js')).trainCommand,
  evaluate: async () => (await import('./evaluate.js')).evaluateCommand,
  generate: async () => (await import('./generate.js')).generateCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  tasks: async () => (await import('./tasks.js')).tasksCommand,
  rounds: async () => (await import('./rounds.js')).roundsCommand,
  models: async () => (await import('./models.js')).modelsCommand,
};

/** The version of @disco/api, from its package.json (two levels up from src/cli and from dist/cli alike). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * Runs `disco` with `argv` (the arguments after the program name) and returns the exit code:
 * 0 on success, 1 when the command failed, 2 for a usage error.
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) io.err(usage);
    else io.out(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(version());
    return 0;
  }
  const load = commands[name];
  if (!load) {
    new Reporter({ json: argv.includes('--json'), io }).error(new UsageError(`unknown command "${name}"`, usage));
    return 2;
  }
  const command = await load();
  return command(rest, io);
}

// Run when executed directly (`node --conditions=source --import tsx src/cli/main.ts ...`); bin/disco.js
// imports runCli instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCli(process.argv.slice(2));
  // Exit explicitly: an idle WebSocket or a TF.js backend must not keep a finished command alive.
  process.exit(code);
}
