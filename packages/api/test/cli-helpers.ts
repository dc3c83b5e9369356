import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Task } from '@disco/core';
import { titanicCsvPath } from '@disco/core/node';
import { closeDiscoClient, createDiscoClient } from '@disco/client';
import { fileURLToPath } from 'node:url';

/** The `disco` bin, run the way a user runs it (no build, TypeScript through tsx). */
export const DISCO_BIN = fileURLToPath(new URL('../bin/disco.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's JSON lines, parsed. */
  events: Record<string, unknown>[];
}

/** Runs `disco <args>` to its end (`env`: variables added to this process's). */
export function disco(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = options.env && { ...process.env, ...options.env };
    const child = spawn(process.execPath, [DISCO_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, stdout, stderr, events });
    });
  });
}

/** A running `disco` process whose output is watched line by line. */
export interface DiscoProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** stdout's JSON lines so far, parsed. */
  events: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first stdout line (now or later) that matches; rejects when the process exits first. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the first JSON event that matches. */
  waitForEvent(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `disco <args>` in the background. */
export function startDisco(args: string[]): DiscoProcess {
  const child = spawn(process.execPath, [DISCO_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const events: Record<string, unknown>[] = [];
  const watchers = new Set<() => void>();
  let stderr = '';
  let pending = '';
  let ended = false;
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
    }
    for (const check of [...watchers]) check();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      ended = true;
      for (const check of [...watchers]) check();
      resolve(code);
    }),
  );
  function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; stderr:\n${stderr}`)), timeoutMs);
      const check = () => {
        const found = find();
        if (found !== undefined) done(undefined, found);
        else if (ended) done(new Error(`disco ${args[0]} exited before ${what}; stderr:\n${stderr}`));
      };
      const done = (error?: Error, value?: T) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (error) reject(error);
        else resolve(value as T);
      };
      watchers.add(check);
      check();
    });
  }
  return {
    child,
    lines,
    events,
    stderr: () => stderr,
    waitForLine: (match, timeoutMs = 60_000) => waitFor(() => lines.find(match), 'a matching line', timeoutMs),
    waitForEvent: (match, timeoutMs = 60_000) => waitFor(() => events.find(match), 'a matching event', timeoutMs),
    exited,
  };
}

/** Starts `disco serve` and resolves once it listens, with its URL. */
export async function startServe(args: string[]): Promise<DiscoProcess & { url: string }> {
  const server = startDisco(['serve', ...args]);
  const line = await server.waitForLine((l) => l.startsWith('Disco API listening on '));
  return Object.assign(server, { url: line.slice('Disco API listening on '.length).trim() });
}

/** Stops a process (SIGTERM, or `signal`) and waits for it to exit. */
export async function stop(proc: DiscoProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  await proc.exited;
}

/** Titanic split into `n` CSV files in `dir`, rows dealt round-robin (the file is sorted by class). */
export function writeTitanicShards(dir: string, n: number): string[] {
  const [header, ...rows] = readFileSync(titanicCsvPath, 'utf8').trim().split('\n');
  return Array.from({ length: n }, (_, i) => {
    const file = path.join(dir, `passengers-${i + 1}.csv`);
    writeFileSync(file, [header, ...rows.filter((_, r) => r % n === i)].join('\n'));
    return file;
  });
}

/** Creates `task` on the server at `url` with the admin token. */
export async function createTaskAsAdmin(url: string, adminToken: string, task: Task): Promise<void> {
  const admin = createDiscoClient(url, { token: adminToken });
  try {
    await admin.tasks.create.mutate({ task });
  } finally {
    closeDiscoClient(admin);
  }
}

/** `disco train --scheme federated --json` with this participant's data, saving the model into `out`. */
export function startFederatedTrain(url: string, taskId: string, data: string, out: string): DiscoProcess {
  return startDisco(['train', '--server', url, '--task', taskId, '--data', data, '--scheme', 'federated', '--json', '--out', out]);
}
