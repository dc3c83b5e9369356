/**
 * When a step of a secure round (decision 0010) closes: the rule the server's round coordinator and the in-memory
 * federation both apply, so that the two never disagree. Pure: counts in, a decision out.
 *
 * ```
 *   every member the step waits for sent (or vanished), at least t sent ──▶ advance to the next step
 *   the step's deadline passed, at least t sent                        ──▶ advance with whoever sent
 *   fewer than t sent, and t out of reach (too few left to wait for) or the deadline passed ──▶ fail
 * ```
 *
 * @example
 * ```ts
 * decideSecurePhase({ phase: 'masking', members: 4, received: 2, pending: 0, threshold: 3, deadlineAt: 9_000, now: 1_000 });
 * // { action: 'fail', reason: 'abandoned: only 2 of 4 masked inputs arrived, fewer than the threshold 3; nothing was unmasked' }
 * ```
 */
export type SecurePhase = 'sharing' | 'masking' | 'unmasking';

/** The counts a secure step is decided on. */
export interface SecurePhaseInput {
  phase: SecurePhase;
  /** Members the step waits for: the roster U1 (sharing), those that dealt shares U2 (masking), the survivors U3 (unmasking). */
  members: number;
  /** Members that sent this step's message. */
  received: number;
  /** Members that have not sent and are still active (a vanished one is not waited for). */
  pending: number;
  /** t: the fewest members the round goes on with. */
  threshold: number;
  /** When the step closes with whoever sent (epoch ms). */
  deadlineAt: number;
  now: number;
}

export type SecurePhaseDecision = { action: 'wait' } | { action: 'advance' } | { action: 'fail'; reason: string };

/** What each step's message is called in a failure reason. */
const WHAT: Record<SecurePhase, string> = {
  sharing: 'sets of shares',
  masking: 'masked inputs',
  unmasking: 'sets of revealed shares',
};

/** What a secure step does now; see {@link SecurePhaseInput}. */
export function decideSecurePhase(input: SecurePhaseInput): SecurePhaseDecision {
  const { phase, members, received, pending, threshold, deadlineAt, now } = input;
  const deadlinePassed = now >= deadlineAt;
  if (received >= threshold) return pending === 0 || deadlinePassed ? { action: 'advance' } : { action: 'wait' };
  // Still reachable: wait. Out of reach (too few left to send) or out of time: fail now.
  if (received + pending >= threshold && !deadlinePassed) return { action: 'wait' };
  return {
    action: 'fail',
    reason: `abandoned: only ${received} of ${members} ${WHAT[phase]} arrived, fewer than the threshold ${threshold}; nothing was unmasked`,
  };
}
