// The steps of a secure round for the in-memory federation: the server's checks (`secure-rounds.ts` and
// `services/secure.ts` in @disco/api), its codes and messages, its phase rule (core's `decideSecurePhase`).
import { DiscoApiError } from '../client/api-errors.js';
import type { RoundPhase, SecureRoundApi } from '../client/federation-api.js';
import { decodeSum } from '../secure/fixed-point.js';
import { SecureAggregationError } from '../secure/errors.js';
import { PUBLIC_KEY_BYTES } from '../secure/key-agreement.js';
import { SecureAggregator, type KeyAdvertisement } from '../secure/masking.js';
import { decideSecurePhase, type SecurePhase } from '../secure/phase-policy.js';
import { secureEncoding } from '../secure/prepare.js';
import type { Task } from '../task/schema.js';

/** What the secure steps need from the federation that holds the rounds. */
export interface SecureStepsHost {
  /** The participant of a token (refusing an unknown or departed one) and its task; counts the call. */
  caller(token: string, call: string): { id: string; task: Task };
  task(taskId: string): Task;
  /** The task's open round number and its model's parameter count. */
  round(taskId: string): { number: number; parameters: number };
  /** Active participants of the task (joined, not left). */
  active(taskId: string): string[];
  /** A key advertisement counts as the participant's submission for `decideRound`. */
  countSubmission(taskId: string, participantId: string): void;
  fail(taskId: string, reason: string): void;
  /** Stores base + delta as the round's version (samples = Σw) and opens the next round. */
  close(taskId: string, delta: Float32Array, samples: number): void;
  announce(taskId: string): void;
  stats: { bytesSent: number; bytesReceived: number };
}

interface SecureState {
  round: number;
  phase: Exclude<RoundPhase, 'closed' | 'failed'>;
  aggregator: SecureAggregator;
  length: number;
  keys: Set<string>;
  roster: KeyAdvertisement[];
  dealt: Set<string>;
  masked: Set<string>;
  survivors: string[];
  revealed: Set<string>;
  /** Resolves once the round's unmasking finished (the last reveal waits for it). */
  done?: Promise<void>;
}

const TAKES: Record<SecurePhase | 'open', string> = { open: 'key advertisements', sharing: 'shares', masking: 'masked inputs', unmasking: 'revealed shares' };

export class InMemorySecureSteps {
  private readonly states = new Map<string, SecureState>();

  constructor(private readonly host: SecureStepsHost) {}

  /** The phase of the task's open round: `open` unless a secure step is under way. */
  phase(taskId: string): RoundPhase {
    return this.states.get(taskId)?.phase ?? 'open';
  }

  /** A new round opened: the last one's secure state is gone (fresh keys next time). */
  reset(taskId: string): void {
    this.states.delete(taskId);
  }

  /** `decideRound` said aggregate: the keys are in, relay the roster. */
  startSharing(taskId: string): void {
    const state = this.states.get(taskId);
    if (!state) return this.host.fail(taskId, 'no key advertisement arrived');
    try {
      state.roster = state.aggregator.roster();
    } catch (error) {
      return this.host.fail(taskId, `abandoned: ${(error as Error).message}`);
    }
    state.phase = 'sharing';
  }

  /** Applies `decideSecurePhase`; `deadlinePassed` as if the step's clock had run out. */
  decide(taskId: string, deadlinePassed: boolean): void {
    const state = this.states.get(taskId);
    if (!state || !['sharing', 'masking', 'unmasking'].includes(state.phase)) return;
    const phase = state.phase as SecurePhase;
    const members = phase === 'sharing' ? [...state.keys] : phase === 'masking' ? [...state.dealt] : state.survivors;
    const sent = phase === 'sharing' ? state.dealt : phase === 'masking' ? state.masked : state.revealed;
    const active = new Set(this.host.active(taskId));
    const waiting = members.filter((id) => !sent.has(id));
    const now = Date.now();
    const decision = decideSecurePhase({
      phase,
      members: members.length,
      received: members.length - waiting.length,
      pending: waiting.filter((id) => active.has(id)).length,
      threshold: state.aggregator.threshold,
      deadlineAt: deadlinePassed ? now : now + 1,
      now,
    });
    if (decision.action === 'wait') return;
    if (decision.action === 'fail') return this.host.fail(taskId, decision.reason);
    if (phase === 'sharing') {
      state.aggregator.sharesFor([...state.dealt][0]); // closes the aggregator's step 1 (U2 fixed)
      state.phase = 'masking';
    } else if (phase === 'masking') {
      state.survivors = state.aggregator.unmaskRequest().survivors;
      state.phase = 'unmasking';
    } else {
      state.phase = 'aggregating';
      state.done = this.unmask(taskId, state);
    }
  }

  private async unmask(taskId: string, state: SecureState): Promise<void> {
    try {
      const sum = await state.aggregator.result();
      const { mean, totalWeight } = decodeSum(sum, secureEncoding(this.host.task(taskId), state.roster.length, state.length - 1).code);
      this.host.close(taskId, mean, totalWeight);
    } catch (error) {
      const message = (error as Error).message;
      this.host.fail(taskId, error instanceof SecureAggregationError ? `abandoned: ${message}` : `aggregation failed: ${message}`);
    }
    this.host.announce(taskId);
  }

  /** The port's `secure` member. */
  api(): SecureRoundApi {
    return {
      advertiseKeys: async (token, round, keys) => {
        const { id, task, number, parameters } = this.context(token, round, 'advertise');
        this.requirePhase(task.id, number, 'open');
        for (const [field, key] of [['channelKey', keys.channelKey], ['maskKey', keys.maskKey]] as const)
          if (key.length !== PUBLIC_KEY_BYTES) throw new DiscoApiError('BAD_REQUEST', `${field} must be a raw P-256 public key of ${PUBLIC_KEY_BYTES} bytes, not ${key.length}`);
        let state = this.states.get(task.id);
        if (!state) {
          state = {
            round: number, phase: 'open', length: parameters + 1,
            aggregator: new SecureAggregator({ taskId: task.id, round: number, length: parameters + 1 }),
            keys: new Set(), roster: [], dealt: new Set(), masked: new Set(), survivors: [], revealed: new Set(),
          };
          this.states.set(task.id, state);
        }
        if (state.keys.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already advertised its keys for round ${number}`);
        guard(() => state.aggregator.receiveKeys({ id, channelKey: keys.channelKey, maskKey: keys.maskKey }));
        state.keys.add(id);
        this.host.stats.bytesSent += keys.channelKey.length + keys.maskKey.length;
        this.host.countSubmission(task.id, id);
      },
      roster: async (token, round) => {
        const { state } = this.member(token, round, 'sharing', 'keys', 'roster');
        return state.roster.map((a) => ({ ...a }));
      },
      sendShares: async (token, round, shares) => {
        const { id, state, taskId } = this.member(token, round, 'sharing', 'keys', 'shares');
        if (state.dealt.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its shares for round ${round}`);
        const forged = shares.find((s) => s.from !== id);
        if (forged) throw new DiscoApiError('FORBIDDEN', `a share from "${forged.from}" cannot come with ${id}'s token: every share's "from" must be the sender`);
        guard(() => state.aggregator.receiveShares({ from: id, shares }));
        state.dealt.add(id);
        this.step(taskId);
      },
      sharesFor: async (token, round) => {
        const { id, state } = this.member(token, round, 'masking', 'dealt', 'sharesFor');
        return guard(() => state.aggregator.sharesFor(id));
      },
      submitMasked: async (token, round, masked) => {
        const { id, state, taskId } = this.member(token, round, 'masking', 'dealt', 'masked');
        if (state.masked.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its masked input for round ${round}`);
        if (masked.length !== state.length)
          throw new DiscoApiError(
            'SHAPE_MISMATCH',
            `a masked input of task "${taskId}" has ${state.length} words (${state.length * 4} bytes: its ${state.length - 1} parameters and the weight word), not ${masked.length} (${masked.length * 4} bytes)`,
          );
        guard(() => state.aggregator.receiveMasked({ from: id, masked: Uint32Array.from(masked) }));
        state.masked.add(id);
        this.host.stats.bytesSent += masked.byteLength;
        this.step(taskId);
      },
      unmaskRequest: async (token, round) => {
        const { state } = this.member(token, round, 'unmasking', 'masked', 'unmaskRequest');
        return { survivors: [...state.survivors] };
      },
      revealShares: async (token, round, response) => {
        const { id, state, taskId } = this.member(token, round, 'unmasking', 'masked', 'reveal');
        if (state.revealed.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already revealed its shares for round ${round}`);
        guard(() => state.aggregator.receiveUnmask({ from: id, ...response }));
        state.revealed.add(id);
        this.step(taskId);
        await state.done;
      },
    };
  }

  private step(taskId: string): void {
    this.decide(taskId, false);
    this.host.announce(taskId);
  }

  private context(token: string, round: number, call: string): { id: string; task: Task; number: number; parameters: number } {
    const { id, task } = this.host.caller(token, `secure.${call}`);
    if (task.scheme !== 'federated' || !task.privacy.secureAggregation)
      throw new DiscoApiError('BAD_REQUEST', `task "${task.id}" does not use secure aggregation (privacy.secureAggregation is off): send plain updates`);
    const { number, parameters } = this.host.round(task.id);
    if (round !== number) {
      const which = round < number ? `round ${round} is over` : `round ${round} has not started`;
      throw new DiscoApiError('WRONG_ROUND', `${which}; the current round is ${number} (${this.phase(task.id)})`);
    }
    return { id, task, number, parameters };
  }

  private requirePhase(taskId: string, number: number, phase: SecurePhase | 'open'): void {
    const now = this.phase(taskId);
    if (now !== phase) throw new DiscoApiError('ROUND_NOT_OPEN', `round ${number} is ${now}: ${TAKES[phase]} are taken in its ${phase} step`);
  }

  private member(token: string, round: number, phase: SecurePhase, set: 'keys' | 'dealt' | 'masked', call: string): { id: string; state: SecureState; taskId: string } {
    const { id, task, number } = this.context(token, round, call);
    this.requirePhase(task.id, number, phase);
    const state = this.states.get(task.id) as SecureState;
    if (!state[set].has(id)) {
      const why = { keys: 'advertised no keys while the round was open', dealt: 'sent no shares in the sharing step', masked: 'sent no masked input in the masking step' }[set];
      throw new DiscoApiError('FORBIDDEN', `participant ${id} takes no part in the ${phase} step of round ${number}: it ${why}`);
    }
    return { id, state, taskId: task.id };
  }
}

/** A `SecureAggregationError` from a participant's message as BAD_REQUEST, as the server answers it. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SecureAggregationError) throw new DiscoApiError('BAD_REQUEST', error.message);
    throw error;
  }
}
