// A lock between the end-to-end test files, which run two at a time. Its own module: support/outside.ts uses
// it and must not load what portal.ts loads (the API, Chromium).
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/**
 * Runs `body` while holding the lock `e2e/dist/<name>.lock` (a folder, created atomically). The end-to-end
 * files run two at a time: what writes into the shared folders (builds, the packages' dist/) waits for the
 * other file's turn instead of writing into the same folder at once.
 */
export function withLock<T>(name: string, body: () => T): T {
  const lock = path.join(dist, `${name}.lock`);
  mkdirSync(path.dirname(lock), { recursive: true });
  for (const started = Date.now(); ; ) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed run (nothing holds one for 10 minutes) is taken over.
      if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() - started > 10 * 60_000) throw new Error(`waited 10 minutes for ${lock}`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
