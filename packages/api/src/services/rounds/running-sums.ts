import { createRoundAggregator, createStrategy, type RoundAggregator } from '@disco/core';
import type { StoredTask } from '../tasks.js';

interface RunningSum {
  taskId: string;
  round: number;
  aggregator: RoundAggregator;
  /** The stored updates (row ids) the aggregator holds. */
  ids: Set<number>;
}

/**
 * The aggregate of each open round's updates as this process records them (decision 0016): each update is
 * added to its round's aggregator in the transaction that records it, so that the close, usually a moment
 * after the last update, has only the result to compute instead of reading every stored update back.
 *
 * A cache, never the truth: the stored updates are. A close uses a running sum only when it holds exactly the
 * round's stored updates (same row ids); otherwise (a restart, updates recorded by another instance, a
 * failed recording) the close reads the stored updates in participant-id order as before. Only for streaming
 * strategies (FedAvg's sum: O(model) memory); a robust rule keeps every update, so it reads them at the close.
 * Both orders sum the same float32 values in float64 and round once to float32.
 */
export class RunningSums {
  private readonly sums = new Map<number, RunningSum>();

  /** Adds a recorded update (row `updateId`) of round `roundId` (number `round`) of the task. */
  add(stored: Pick<StoredTask, 'task' | 'parameterCount'>, roundId: number, round: number, updateId: number, delta: Float32Array, samples: number): void {
    if (!createStrategy(stored.task.aggregation).streaming) return;
    let sum = this.sums.get(roundId);
    if (!sum) {
      sum = { taskId: stored.task.id, round, aggregator: createRoundAggregator(stored.task, stored.parameterCount), ids: new Set() };
      this.sums.set(roundId, sum);
    }
    sum.aggregator.add(delta, samples);
    sum.ids.add(updateId);
  }

  /**
   * The round's running aggregator, when it holds exactly the `stored` updates (by row id); forgotten either
   * way (the close that asks computes the aggregate once).
   */
  take(roundId: number, stored: readonly { id: number }[]): RoundAggregator | undefined {
    const sum = this.sums.get(roundId);
    this.sums.delete(roundId);
    if (!sum || sum.ids.size !== stored.length || !stored.every((row) => sum.ids.has(row.id))) return undefined;
    return sum.aggregator;
  }

  /** Drops a round's sum (a recording failed, the round failed). */
  forget(roundId: number): void {
    this.sums.delete(roundId);
  }

  /** Drops the task's sums of rounds up to `round` (closed or failed, possibly by another instance), or all of them. */
  forgetTask(taskId: string, round = Infinity): void {
    for (const [id, sum] of this.sums) if (sum.taskId === taskId && sum.round <= round) this.sums.delete(id);
  }
}
