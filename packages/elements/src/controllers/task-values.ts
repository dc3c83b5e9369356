import { TaskStatus, type Task } from '@lit/task';
import type { ReactiveController, ReactiveControllerHost } from 'lit';

// Small readings of a Lit `Task` (https://lit.dev/docs/data/task/) that the elements share. A task whose
// inputs are incomplete returns `initialState` and goes back to `TaskStatus.INITIAL`, but keeps the
// value of its last run; these readings do not.

/** The task's value: the last one loaded (also while it reloads), `undefined` while its inputs are incomplete or after a failure. */
export function currentValue<A extends readonly unknown[], R>(task: Task<A, R>): R | undefined {
  return task.status === TaskStatus.INITIAL ? undefined : task.value;
}

/** Resolves once the task's current run has settled, whatever its outcome (tests, embedders). */
export function settled<A extends readonly unknown[]>(task: Task<A>): Promise<void> {
  return task.taskComplete.then(
    () => undefined,
    () => undefined,
  );
}

/**
 * The task's value once loaded: at once when it is, else when a run of the task completes, however long
 * its inputs stay incomplete. Rejects with the error of a failed run (at once when the last one failed),
 * or with `signal`'s reason when it aborts first.
 */
export function loadedValue<A extends readonly unknown[], R>(host: ReactiveControllerHost, task: Task<A, R>, signal?: AbortSignal): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    // A task requests an update of its host at each change of status: look after each update.
    const watcher: ReactiveController = { hostUpdated: () => check() };
    const abort = () => finish(() => reject(signal!.reason));
    const finish = (settle: () => void) => {
      host.removeController(watcher);
      signal?.removeEventListener('abort', abort);
      settle();
    };
    const check = (): boolean => {
      if (task.status === TaskStatus.COMPLETE) finish(() => resolve(task.value as R));
      else if (task.status === TaskStatus.ERROR) finish(() => reject(task.error));
      else return false;
      return true;
    };
    if (signal?.aborted) return reject(signal.reason);
    if (check()) return;
    host.addController(watcher);
    signal?.addEventListener('abort', abort);
  });
}
