import { EventEmitter } from 'node:events';
import type { RoundState } from '@disco/core';

/**
 * Round state changes, per task, for this process's `federation.onRound` subscribers. Changes made on any
 * instance reach it through the database's notifier: the round coordinator listens on `disco_rounds` and, for a
 * task someone here watches, reads the state and publishes it here (decision 0015). Every event is derived from
 * rows of the database, so nothing here is state of its own.
 */
export class RoundEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(state: RoundState): void {
    this.emitter.emit(`round:${state.taskId}`, state);
  }

  /** Whether anyone watches the task's rounds now (nothing to compute for an announcement otherwise). */
  watched(taskId: string): boolean {
    return this.emitter.listenerCount(`round:${taskId}`) > 0;
  }

  /** Ends every subscription of a deleted task. */
  endTask(taskId: string): void {
    this.emitter.emit(`end:${taskId}`);
  }

  /**
   * The task's round states as they change, until `signal` aborts or the task is deleted. Listens from the
   * moment it is called (not from the first `next()`), so that a caller can read the current state after
   * subscribing without missing a change in between.
   */
  watch(taskId: string, signal?: AbortSignal): AsyncGenerator<RoundState> {
    const queue: RoundState[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    const onState = (state: RoundState) => {
      queue.push(state);
      wake?.();
    };
    const key = `round:${taskId}`;
    const onEnd = () => {
      ended = true;
      // Stop listening now, even if the generator was never started (its `finally` would not run).
      this.emitter.off(key, onState);
      this.emitter.off(`end:${taskId}`, onEnd);
      wake?.();
    };
    this.emitter.on(key, onState);
    this.emitter.on(`end:${taskId}`, onEnd);
    signal?.addEventListener('abort', onEnd, { once: true });
    const emitter = this.emitter;
    async function* iterate(): AsyncGenerator<RoundState> {
      try {
        while (true) {
          while (queue.length) yield queue.shift()!;
          if (ended || signal?.aborted) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      } finally {
        emitter.off(key, onState);
        emitter.off(`end:${taskId}`, onEnd);
        signal?.removeEventListener('abort', onEnd);
      }
    }
    return iterate();
  }
}
