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
 * A cache, never the truth: the stored updates are. A close uses a running sum when every update it holds is
 * stored (row ids), and reads the round's other stored updates (recorded by other instances) into it, in
 * participant-id order; with no running sum (a restart, a failed recording, a robust rule) it reads them all. Only for streaming
 * strategies (FedAvg's sum: O(model) memory); a robust rule keeps every update, so it reads them at the close.
 * Every order sums the same float32 values in float64 and rounds once to float32 (decision 0016).
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
   * The round's running aggregator and the stored updates it already holds, when it holds only stored ones
   * (`stored`, by row id): the close adds the others (recorded by other instances) to it. Forgotten either way
   * (the close that asks computes the aggregate once); undefined when there is none or it holds an update that
   * is not stored.
   */
  take(roundId: number, stored: readonly { id: number }[]): { aggregator: RoundAggregator; holds: Set<number> } | undefined {
    const sum = this.sums.get(roundId);
    this.sums.delete(roundId);
    if (!sum) return undefined;
    const ids = new Set(stored.map((row) => row.id));
    for (const id of sum.ids) if (!ids.has(id)) return undefined;
    return { aggregator: sum.aggregator, holds: sum.ids };
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
