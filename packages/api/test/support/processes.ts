// What the throwaway servers of the tests (postgres.ts, nginx.ts) share: the unprivileged user they run as,
// a free port, waiting for a server, and stopping them even when the test process ends without calling stop().
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';

/** A system user to run a server as: PostgreSQL refuses to run as root, and nginx need not. */
export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The user to run servers as. Not root: the current user itself (`undefined`: no switch). Root: the first of
 * `candidates` that exists (the Debian packages create `postgres` and `www-data`; `nobody` is always there).
 */
export function unprivilegedUser(candidates: string[]): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of [...candidates, 'nobody']) {
    const entry = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
    const fields = entry.status === 0 ? entry.stdout.trim().split(':') : [];
    if (fields.length >= 4) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error(`running as root, and none of the users ${[...candidates, 'nobody'].join(', ')} exists to run a test server as`);
}

/**
 * A port free on 127.0.0.1 now (the kernel's choice). Another process may take it before the server binds it,
 * so the callers retry a start that failed to bind.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:`port` accepts a TCP connection; rejects when `child` exits first or after `timeoutMs`. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening on ${port}\n${describe()}`);
    if (await connects(port)) return;
    if (Date.now() > deadline) throw new Error(`not listening on ${port} after ${timeoutMs} ms\n${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves when `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Stops `child`: each signal of `steps` in turn, the next one after its grace period if the child is still
 * there, SIGKILL after the last; resolves once it has exited. Used by the servers' asynchronous stop().
 */
export async function stopChild(child: ChildProcess, steps: [NodeJS.Signals, number][]): Promise<void> {
  const done = exited(child);
  for (const [signal, graceMs] of steps) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([done.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (gone) return;
  }
  child.kill('SIGKILL');
  await done;
}

/** The last `max` characters of a file, or '' when it cannot be read (for error messages). */
export function tail(file: string, max = 4000): string {
  try {
    return readFileSync(file, 'utf8').slice(-max);
  } catch {
    return '';
  }
}

// ── Clean-up when the test process ends without stop(): a failed assertion before it, a timeout, Ctrl-C. ──

const cleanups = new Set<() => void>();
let installed = false;

/**
 * Registers a synchronous clean-up run at process exit and on SIGINT/SIGTERM (then the signal is raised
 * again, so the process still ends as it would have). Returns the function that unregisters it.
 */
export function onProcessEnd(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runCleanups);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        runCleanups();
        process.kill(process.pid, signal);
      });
    }
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

function runCleanups(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // the process is ending: clean up what can be
    }
  }
  cleanups.clear();
}

/**
 * Synchronously: `signal` to the server `child`, a wait of up to `waitMs` for it to go (the event loop is not
 * running at exit, so /proc is read: a zombie counts as gone), then the folder removed.
 */
export function killAndRemoveSync(child: ChildProcess, signal: NodeJS.Signals, folder: string, waitMs = 3000): void {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    const deadline = Date.now() + waitMs;
    while (alive(pid) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  rmSync(folder, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    // state is the field after the parenthesised command name
    return !/\)\s+Z/.test(readFileSync(stat, 'utf8'));
  } catch {
    return false;
  }
}
