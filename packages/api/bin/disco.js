#!/usr/bin/env node
// The `disco` command. It runs the TypeScript sources directly, so that it works from a fresh clone
// with no build: tsx compiles on the fly, and a one-line resolve hook adds the `source` export condition
// (what `node --conditions=source` does) so that `@disco/core` resolves to its sources too. Everything
// stays in this one process, so that signals (SIGINT, SIGKILL) reach the command itself.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

const addSourceCondition =
  'export async function resolve(specifier, context, next) {' +
  " return next(specifier, { ...context, conditions: [...new Set([...context.conditions, 'source'])] }); }";
register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
registerTsx();

const { runCli } = await import('../src/cli/main.ts');
const code = await runCli(process.argv.slice(2));
// Exit explicitly: an idle WebSocket or a TF.js backend must not keep a finished command alive.
process.exit(code);
