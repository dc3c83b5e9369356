// The steps of a secure round for the in-memory federation: core's `SecureRoundState` (the server's state, checks,
// codes and messages, and its phase rule), with the federation's tokens, rounds and clock around it.
import type { RoundPhase, SecureRoundApi } from '../client/federation-api.js';
import {
  checkPublicKey,
  isSecurePhase,
  requireCurrentRound,
  requireSecureTask,
  requireStep,
  SecureRoundState,
} from '../secure/round-state.js';
import type { SecurePhase } from '../secure/phase-policy.js';
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

interface SecureRound {
  phase: Exclude<RoundPhase, 'closed' | 'failed'>;
  state: SecureRoundState;
  /** Resolves once the round's unmasking finished (the last reveal waits for it). */
  done?: Promise<void>;
}

export class InMemorySecureSteps {
  private readonly rounds = new Map<string, SecureRound>();

  constructor(private readonly host: SecureStepsHost) {}

  /** The phase of the task's open round: `open` unless a secure step is under way. */
  phase(taskId: string): RoundPhase {
    return this.rounds.get(taskId)?.phase ?? 'open';
  }

  /** A new round opened: the last one's secure state is gone (fresh keys next time). */
  reset(taskId: string): void {
    this.rounds.delete(taskId);
  }

  /** `decideRound` said aggregate: the keys are in, relay the roster. */
  startSharing(taskId: string): void {
    const round = this.rounds.get(taskId);
    if (!round) return this.host.fail(taskId, 'no key advertisement arrived');
    const problem = round.state.openSharing();
    if (problem) return this.host.fail(taskId, problem);
    round.phase = 'sharing';
  }

  /** Applies `decideSecurePhase`; `deadlinePassed` as if the step's clock had run out. */
  decide(taskId: string, deadlinePassed: boolean): void {
    const round = this.rounds.get(taskId);
    if (!round || !isSecurePhase(round.phase)) return;
    const now = Date.now();
    const decision = round.state.decide(round.phase, { deadlineAt: deadlinePassed ? now : now + 1, now }, () => new Set(this.host.active(taskId)));
    if (decision.action === 'wait') return;
    if (decision.action === 'fail') return this.host.fail(taskId, decision.reason);
    round.phase = round.state.advance(round.phase);
    if (round.phase === 'aggregating') round.done = this.unmask(taskId, round.state);
  }

  private async unmask(taskId: string, state: SecureRoundState): Promise<void> {
    const { problem } = await state.unmask(this.host.task(taskId), (mean, totalWeight) => this.host.close(taskId, mean, totalWeight));
    if (problem) this.host.fail(taskId, problem);
    this.host.announce(taskId);
  }

  /** The port's `secure` member. */
  api(): SecureRoundApi {
    return {
      advertiseKeys: async (token, round, keys) => {
        const { id, task, number, parameters } = this.context(token, round, 'advertise');
        requireStep(number, this.phase(task.id), 'open');
        checkPublicKey(keys.channelKey, 'channelKey');
        checkPublicKey(keys.maskKey, 'maskKey');
        let secure = this.rounds.get(task.id);
        if (!secure) {
          secure = { phase: 'open', state: new SecureRoundState(task.id, number, parameters) };
          this.rounds.set(task.id, secure);
        }
        secure.state.receiveKeys(id, keys);
        this.host.stats.bytesSent += keys.channelKey.length + keys.maskKey.length;
        this.host.countSubmission(task.id, id);
      },
      roster: async (token, round) => {
        const { id, state } = this.step(token, round, 'sharing', 'roster');
        return state.rosterFor(id).map((a) => ({ ...a }));
      },
      sendShares: async (token, round, shares) => {
        const { id, state, taskId } = this.step(token, round, 'sharing', 'shares');
        state.receiveShares(id, shares);
        this.advanced(taskId);
      },
      sharesFor: async (token, round) => {
        const { id, state } = this.step(token, round, 'masking', 'sharesFor');
        return state.sharesFor(id);
      },
      submitMasked: async (token, round, masked) => {
        const { id, state, taskId } = this.step(token, round, 'masking', 'masked');
        state.receiveMasked(id, Uint32Array.from(masked));
        this.host.stats.bytesSent += masked.byteLength;
        this.advanced(taskId);
      },
      unmaskRequest: async (token, round) => {
        const { id, state } = this.step(token, round, 'unmasking', 'unmaskRequest');
        return state.unmaskRequest(id);
      },
      revealShares: async (token, round, response) => {
        const { id, state, taskId, secure } = this.step(token, round, 'unmasking', 'reveal');
        state.receiveReveal(id, response);
        this.advanced(taskId);
        await secure.done;
      },
    };
  }

  /** A step's message arrived: decide the step and tell the waiting participants. */
  private advanced(taskId: string): void {
    this.decide(taskId, false);
    this.host.announce(taskId);
  }

  private context(token: string, round: number, call: string): { id: string; task: Task; number: number; parameters: number } {
    const { id, task } = this.host.caller(token, `secure.${call}`);
    requireSecureTask(task);
    const { number, parameters } = this.host.round(task.id);
    requireCurrentRound(round, { number, phase: this.phase(task.id) });
    return { id, task, number, parameters };
  }

  /** The caller, in step `phase` of the task's current round. */
  private step(token: string, round: number, phase: SecurePhase, call: string): { id: string; state: SecureRoundState; taskId: string; secure: SecureRound } {
    const { id, task, number } = this.context(token, round, call);
    requireStep(number, this.phase(task.id), phase);
    const secure = this.rounds.get(task.id) as SecureRound;
    return { id, state: secure.state, taskId: task.id, secure };
  }
}
