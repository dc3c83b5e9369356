import type { RoundInfo } from '../client/federation-api.js';

/**
 * A closed round of a task's history, as `rounds.list` returns it, for fixtures (a fake server's past
 * rounds, a story's chart): round `number` trained from version `number − 1` and produced `number`.
 *
 * @example
 * ```ts
 * new FakeDiscoApi({ tasks: [titanic], rounds: { titanic: [1, 2].map((n) => closedRound(n, { participants: 3 })) } });
 * ```
 */
export function closedRound(number: number, fields: Partial<RoundInfo> = {}): RoundInfo {
  const openedAt = fields.openedAt ?? Date.UTC(2026, 0, 1) + number * 60_000;
  const durationMs = fields.durationMs ?? 30_000;
  return {
    number,
    phase: 'closed',
    baseVersion: number - 1,
    modelVersion: number,
    participants: 2,
    submitted: fields.participants ?? 2,
    samples: 0,
    metrics: null,
    strategy: 'fedavg',
    openedAt,
    deadline: null,
    closedAt: openedAt + durationMs,
    durationMs,
    extensions: 0,
    failureReason: null,
    epsilon: null,
    delta: null,
    clipped: 0,
    ...fields,
  };
}
