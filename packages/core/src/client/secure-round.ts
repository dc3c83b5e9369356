// One participant's side of a secure federated round (decision 0010): the steps of `SecureAggregationClient`
// over the port's `secure` calls, each sent once the server's round reaches its phase. The federated client
// branches here for a task with `privacy.secureAggregation`; tests drive it with their own inputs.
import { SecureAggregationError } from '../secure/errors.js';
import { SecureAggregationClient } from '../secure/masking.js';
import { DiscoApiError } from './api-errors.js';
import type { FederationApi, RoundPhase, RoundState } from './federation-api.js';

/** What the steps need from the session that runs them. */
export interface SecureRoundContext {
  api: FederationApi;
  token: string;
  taskId: string;
  /** This participant's id as the server knows it (bound into its keys and shares). */
  participantId: string;
  round: number;
  /** Resolves with the first round state that satisfies `ready` (the session's state, kept fresh by its subscription). */
  waitForState: (ready: (state: RoundState) => boolean) => Promise<RoundState>;
  /** Runs one call to the server, retrying what is transient (the session's own `call`). */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Called after each step was accepted (tests: a participant that vanishes there). */
  after?: (step: 'keys' | 'shares' | 'masked' | 'revealed') => void | Promise<void>;
}

/** How a secure round ended for this participant. */
export type SecureRoundOutcome =
  /** Every step sent; the sum (with this input in it) is the server's to unmask. */
  | { status: 'sent' }
  /** The round moved on without this participant, or failed: `reason` says where. */
  | { status: 'missed'; reason: string };

const ORDER: readonly RoundPhase[] = ['open', 'sharing', 'masking', 'unmasking', 'aggregating', 'closed'];

/** A refusal that says the round is no longer where this participant thought (closed, failed, moved on). */
function roundMovedOn(error: unknown): boolean {
  return error instanceof DiscoApiError && ['WRONG_ROUND', 'ROUND_NOT_OPEN', 'FORBIDDEN'].includes(error.code);
}

/**
 * Runs the four steps of a secure round: advertise keys (phase `open`), deal shares (`sharing`), send the masked
 * input (`masking`), reveal shares (`unmasking`). `prepare(participants)` turns this participant's update into its
 * d + 1 fixed-point words once the roster's size is known (`prepareSecureInput`). Fresh keys every round.
 */
export async function runSecureRound(context: SecureRoundContext, prepare: (participants: number) => Uint32Array): Promise<SecureRoundOutcome> {
  const { api, token, round, call } = context;
  const client = await SecureAggregationClient.create({ id: context.participantId, taskId: context.taskId, round });
  /** Waits for `phase` of this round; the reason it never comes otherwise. */
  const reach = async (phase: RoundPhase): Promise<string | undefined> => {
    const target = ORDER.indexOf(phase);
    const state = await context.waitForState((s) => s.round !== round || s.phase === 'failed' || ORDER.indexOf(s.phase) >= target);
    if (state.round !== round) return `round ${round} ended before its ${phase} step`;
    if (state.phase === 'failed') return `round ${round} failed before its ${phase} step`;
    if (state.phase !== phase) return `round ${round} passed its ${phase} step (now ${state.phase}) without this participant`;
    return undefined;
  };
  try {
    const keys = client.advertise();
    await send(() => call(() => api.secure.advertiseKeys(token, round, { channelKey: keys.channelKey, maskKey: keys.maskKey })));
    await context.after?.('keys');
    let missed = await reach('sharing');
    if (missed) return { status: 'missed', reason: missed };
    const roster = await call(() => api.secure.roster(token, round));
    const shares = await client.shareKeys(roster);
    await send(() => call(() => api.secure.sendShares(token, round, shares.shares)));
    await context.after?.('shares');
    missed = await reach('masking');
    if (missed) return { status: 'missed', reason: missed };
    const received = await call(() => api.secure.sharesFor(token, round));
    const masked = await client.maskInput(received, prepare(roster.length));
    await send(() => call(() => api.secure.submitMasked(token, round, masked.masked)));
    await context.after?.('masked');
    missed = await reach('unmasking');
    if (missed) return { status: 'missed', reason: missed };
    const request = await call(() => api.secure.unmaskRequest(token, round));
    const { selfMaskShares, maskKeyShares } = client.unmask(request);
    await send(() => call(() => api.secure.revealShares(token, round, { selfMaskShares, maskKeyShares })));
    await context.after?.('revealed');
    return { status: 'sent' };
  } catch (error) {
    if (roundMovedOn(error)) return { status: 'missed', reason: (error as Error).message };
    // The library refused a step (too few left, an inconsistent roster or survivor list): send nothing more.
    if (error instanceof SecureAggregationError) return { status: 'missed', reason: `refused to go on: ${error.message}` };
    throw error;
  }
}

/** Sends one step; a step whose first attempt did arrive (a retry answered DUPLICATE_UPDATE) counts as sent. */
async function send(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DiscoApiError && error.code === 'DUPLICATE_UPDATE') return;
    throw error;
  }
}
