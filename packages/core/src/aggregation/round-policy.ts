/**
 * When a federated round closes: the rule the server's round coordinator applies on every update, join,
 * leave and scheduler tick, and the in-memory federation applies too. Pure: plain numbers in, a decision
 * out; the caller reads the counts, applies the decision and announces it.
 *
 * ```
 *   no deadline yet ──(someone active)──▶ start the clock
 *   enough updates, and every expected participant sent one or the deadline passed ──▶ aggregate
 *   everyone sent an update or sat the round out (sampling), too few updates ──▶ fail now
 *   deadline passed, nothing sent and nobody active ──▶ idle (stop the clock, wait for participants)
 *   deadline passed, too few updates ──▶ extend (up to maxExtensions times) ──▶ fail
 * ```
 *
 * @example
 * ```ts
 * const decision = decideRound({ submitted: 3, pending: 0, active: 3, minParticipants: 2, deadlineAt: 5_000,
 *   now: 1_000, extensions: 0, maxExtensions: 2, roundDeadlineMs: 60_000 });
 * // { action: 'aggregate' }: everyone expected has sent an update
 * ```
 */
export interface RoundPolicyInput {
  /** Updates received in the round so far. */
  submitted: number;
  /**
   * Active participants waited for in the round that have not sent an update yet (nor sat it out), without
   * those that missed the task's `maxMissedRounds` rounds in a row ({@link isWaitedFor}).
   */
  pending: number;
  /** Participants that sat the round out (tasks with a sampling rate); default 0. */
  skipped?: number;
  /** Active participants of the task (recent heartbeat, not left). */
  active: number;
  /** The task's `minParticipants`: fewer updates than this never make a round. */
  minParticipants: number;
  /** When the round closes with whoever submitted (epoch ms); null while its clock has not started. */
  deadlineAt: number | null;
  /** The time now (epoch ms). */
  now: number;
  /** Times the deadline was already extended. */
  extensions: number;
  /** Extensions allowed before a round that is still short fails. */
  maxExtensions: number;
  /** Length of a round's deadline (ms), for a clock that starts or an extension. */
  roundDeadlineMs: number;
}

export type RoundDecision =
  /** Nothing to do now. */
  | { action: 'wait' }
  /** The round's clock starts: store the deadline and wait. */
  | { action: 'start'; deadlineAt: number }
  /** Close the round with the updates received. */
  | { action: 'aggregate' }
  /** Too few updates by the deadline: push it back (`extensions` is the new count). */
  | { action: 'extend'; deadlineAt: number; extensions: number }
  /** Nothing sent and nobody left: stop the clock (no deadline, no extension) until someone joins. */
  | { action: 'idle' }
  /** Too few updates after every extension: the round fails. */
  | { action: 'fail'; reason: string };

/** What an open round does now; see {@link RoundPolicyInput} for the inputs. */
export function decideRound(input: RoundPolicyInput): RoundDecision {
  const { submitted, pending, active, minParticipants, now, extensions, maxExtensions, roundDeadlineMs } = input;
  // Waiting for participants: no clock runs while nobody is active.
  if (input.deadlineAt === null && active === 0) return { action: 'wait' };
  const starting = input.deadlineAt === null;
  const deadlineAt = input.deadlineAt ?? now + roundDeadlineMs;
  const deadlinePassed = now >= deadlineAt;
  const enough = submitted >= minParticipants;
  if (enough && (deadlinePassed || pending === 0)) return { action: 'aggregate' };
  // Sampling: everyone active has sent an update or sat the round out, and too few were sampled. Nobody is
  // left to wait for: the round fails now (releasing nothing) instead of at its deadline.
  if (!enough && pending === 0 && (input.skipped ?? 0) > 0 && active > 0)
    return { action: 'fail', reason: `only ${submitted} of the ${minParticipants} updates needed: the other ${input.skipped} participant(s) sat this round out (sampling)` };
  if (!deadlinePassed) return starting ? { action: 'start', deadlineAt } : { action: 'wait' };
  // Nobody is left and nothing was sent: wait for participants instead of failing rounds in a loop.
  if (submitted === 0 && active === 0) return { action: 'idle' };
  if (extensions < maxExtensions) return { action: 'extend', deadlineAt: now + roundDeadlineMs, extensions: extensions + 1 };
  return {
    action: 'fail',
    reason: `only ${submitted} of the ${minParticipants} updates needed arrived before the deadline (extended ${extensions} times)`,
  };
}

/** The task's `maxMissedRounds` when it leaves it unset. */
export const DEFAULT_MAX_MISSED_ROUNDS = 2;

/**
 * Rounds in a row that a participant was waited for and sent nothing (no update, no sampled-out skip), just
 * before `round`: the rounds from the later of its first round and the one after its last update. Rounds are
 * numbered without gaps (failed ones included), so this is a difference.
 *
 * @example
 * ```ts
 * missedRounds({ round: 5, firstRound: 1, lastRound: 2 }); // 2: rounds 3 and 4
 * ```
 */
export function missedRounds(input: { round: number; firstRound: number; lastRound: number | null }): number {
  const since = Math.max(input.lastRound ?? 0, input.firstRound - 1);
  return Math.max(0, input.round - 1 - since);
}

/**
 * Whether an active participant that has not sent its update for `round` yet counts towards the quorum
 * (decideRound's `pending`): not once it missed `maxMissedRounds` rounds in a row, until it sends one again.
 * A participant that keeps its heartbeat but never trains then stops holding every round to its deadline;
 * its update is still accepted while the round is open. The server and the in-memory federation both filter
 * their pending participants with this.
 */
export function isWaitedFor(input: { round: number; firstRound: number; lastRound: number | null }, maxMissedRounds: number): boolean {
  return missedRounds(input) < maxMissedRounds;
}
