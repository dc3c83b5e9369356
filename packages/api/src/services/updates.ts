import type { Db } from '../db/client.js';
import { checkUpdate, DiscoApiError, isAsync } from '@disco/core';
import { authenticate, type ParticipantRow } from './participants.js';
import type { RoundCoordinator, RoundRow } from './rounds/coordinator.js';
import { loadTask, type StoredTask } from './tasks.js';

/**
 * The largest update body accepted for a task: its float32 weights (4 bytes a parameter), plus the codec
 * header (shapes, int8 ranges, meta) and some slack.
 */
export function maxUpdateBytes(stored: Pick<StoredTask, 'parameterCount' | 'shapes'>): number {
  return stored.parameterCount * 4 + JSON.stringify(stored.shapes).length * 2 + stored.shapes.length * 64 + 64 * 1024;
}

/** Checks before the body is read: task, token, scheme, round. Cheap refusals of what will fail anyway. */
export async function precheckUpdate(
  db: Db,
  coordinator: RoundCoordinator,
  input: { taskId: string; round: number; token: string | null },
): Promise<{ stored: StoredTask; participant: ParticipantRow; round: RoundRow }> {
  const stored = await loadTask(db, input.taskId);
  const participant = await authenticate(db, input.token, input.taskId);
  if (stored.task.scheme !== 'federated')
    throw new DiscoApiError('SCHEME_MISMATCH', `task "${input.taskId}" is ${stored.task.scheme}: the server takes no weights for it`);
  if (stored.task.privacy.secureAggregation)
    throw new DiscoApiError(
      'BAD_REQUEST',
      `task "${input.taskId}" uses secure aggregation (privacy.secureAggregation): the server takes no plain update, only key advertisements, shares and masked inputs (secure.advertiseKeys and the masked route)`,
    );
  // Asynchronous tasks: any participant, any time, into the open buffer (async-rounds.ts).
  if (isAsync(stored.task)) return { stored, participant, round: (await coordinator.async.admit(stored.task, participant.id, input.round)).round };
  const round = await coordinator.requireOpenRound(input.taskId, input.round);
  if (await coordinator.hasSubmitted(round.id, participant.id))
    throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already submitted an update for round ${round.number}`);
  return { stored, participant, round };
}

/**
 * Checks an update body completely (core's `checkUpdate`: header, task, shapes, base version, checksum,
 * finite values, samples within the task's `maxSamplesPerUpdate`) and, only when all pass, records it in
 * the round. Throws a `DiscoApiError` naming the problem otherwise, with nothing stored. The round may close
 * (on any instance) between these checks and the recording: the coordinator's `submit` records the update
 * only if the round is still open and the participant has not submitted to it, in one transaction.
 */
export async function submitUpdate(
  db: Db,
  coordinator: RoundCoordinator,
  input: { taskId: string; round: number; token: string | null; body: Uint8Array },
): Promise<{ round: number; submitted: number; staleness?: number }> {
  // Re-run the prechecks: the round may have closed while the body was arriving.
  const { stored, participant, round } = await precheckUpdate(db, coordinator, input);
  if (isAsync(stored.task)) return coordinator.async.submit(stored, participant, input.round, input.body);
  const { delta, samples, metrics } = checkUpdate(input.body, {
    taskId: input.taskId,
    shapes: stored.shapes,
    round: round.number,
    baseVersion: round.baseVersion,
    maxSamples: stored.task.aggregation.maxSamplesPerUpdate,
  });
  const after = await coordinator.submit(round, participant.id, { message: input.body, delta, samples, metrics });
  return { round: round.number, submitted: after.submitted };
}
