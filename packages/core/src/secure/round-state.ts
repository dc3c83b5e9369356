/**
 * One federated secure round (decision 0010) as the server holds it, without a transport or a database: the
 * aggregator, who sent each step's message, the refusals of a message (codes and texts of {@link DiscoApiError}),
 * the counts `decideSecurePhase` decides a step on, and what each step's close does. The API server
 * (`services/rounds/secure-rounds.ts`) and the in-memory federation (`testing/in-memory-secure.ts`) both run their
 * rounds through it, so that they never disagree; each keeps the round's phase, its clock and who is active.
 *
 * ```
 *   open: receiveKeys ──▶ openSharing ──▶ sharing: roster, receiveShares ──▶ advance ──▶ masking: sharesFor,
 *   receiveMasked ──▶ advance ──▶ unmasking: unmaskRequest, receiveReveal ──▶ advance ──▶ aggregating: unmask
 * ```
 */
import { DiscoApiError } from '../client/api-errors.js';
import type { Task } from '../task/schema.js';
import { SecureAggregationError } from './errors.js';
import { decodeSum } from './fixed-point.js';
import { PUBLIC_KEY_BYTES } from './key-agreement.js';
import { SecureAggregator, type EncryptedShare, type KeyAdvertisement, type UnmaskRequest, type UnmaskResponse } from './masking.js';
import { decideSecurePhase, type SecurePhase, type SecurePhaseDecision } from './phase-policy.js';
import { secureEncoding } from './prepare.js';

/** The steps after `open`, in order. */
export const SECURE_PHASES: readonly SecurePhase[] = ['sharing', 'masking', 'unmasking'];

export function isSecurePhase(phase: string): phase is SecurePhase {
  return (SECURE_PHASES as readonly string[]).includes(phase);
}

/** What each step takes, for refusals. */
const TAKES: Record<SecurePhase | 'open', string> = {
  open: 'key advertisements',
  sharing: 'shares',
  masking: 'masked inputs',
  unmasking: 'revealed shares',
};

/** Why a participant is not a member of a step: it missed the step before. */
const NOT_MEMBER: Record<SecurePhase, string> = {
  sharing: 'advertised no keys while the round was open',
  masking: 'sent no shares in the sharing step',
  unmasking: 'sent no masked input in the masking step',
};

/** A secure message needs a federated task with `privacy.secureAggregation` (else BAD_REQUEST naming the setting). */
export function requireSecureTask(task: Pick<Task, 'id' | 'scheme' | 'privacy'>): void {
  if (task.scheme !== 'federated' || !task.privacy.secureAggregation)
    throw new DiscoApiError('BAD_REQUEST', `task "${task.id}" does not use secure aggregation (privacy.secureAggregation is off): send plain updates`);
}

/** A secure message names the task's current round (else WRONG_ROUND naming the current one and its phase). */
export function requireCurrentRound(requested: number, current: { number: number; phase: string }): void {
  if (requested === current.number) return;
  const which = requested < current.number ? `round ${requested} is over` : `round ${requested} has not started`;
  throw new DiscoApiError('WRONG_ROUND', `${which}; the current round is ${current.number} (${current.phase})`);
}

/** A message of step `phase` while round `number` is in `current` (else ROUND_NOT_OPEN naming both). */
export function requireStep(number: number, current: string, phase: SecurePhase | 'open'): void {
  if (current !== phase) throw new DiscoApiError('ROUND_NOT_OPEN', `round ${number} is ${current}: ${TAKES[phase]} are taken in its ${phase} step`);
}

/** Why a step message of an abandoned round (the server restarted) is refused (ROUND_NOT_OPEN). */
export function abandonedStep(number: number, phase: SecurePhase): DiscoApiError {
  return new DiscoApiError('ROUND_NOT_OPEN', `round ${number} was abandoned (the server restarted) and takes no more ${TAKES[phase]}`);
}

/** A raw P-256 public key (65 bytes, uncompressed), or BAD_REQUEST naming the field. */
export function checkPublicKey(bytes: Uint8Array, field: string): Uint8Array {
  if (bytes.length !== PUBLIC_KEY_BYTES) throw new DiscoApiError('BAD_REQUEST', `${field} must be a raw P-256 public key of ${PUBLIC_KEY_BYTES} bytes, not ${bytes.length}`);
  return bytes;
}

/** A masked input of task `taskId` has `length` words; else SHAPE_MISMATCH naming both sizes. */
export function checkMaskedLength(taskId: string, length: number, words: number): void {
  if (words !== length)
    throw new DiscoApiError(
      'SHAPE_MISMATCH',
      `a masked input of task "${taskId}" has ${length} words (${length * 4} bytes: its ${length - 1} parameters and the weight word), not ${words} (${words * 4} bytes)`,
    );
}

/** The members of a step and who of them has not sent yet. */
export interface SecureStepInputs {
  /** U1 (sharing), U2 (masking) or U3 (unmasking). */
  members: readonly string[];
  /** How many members sent this step's message. */
  received: number;
  /** The members that have not sent it. */
  waiting: string[];
}

/** How a round's unmasking ended: `problem` is the round's failure reason; `error` an unexpected one, to log. */
export interface UnmaskOutcome {
  problem?: string;
  error?: unknown;
}

export class SecureRoundState {
  readonly #aggregator: SecureAggregator;
  /** Words of a masked input: the task's parameters and the weight word. */
  readonly length: number;
  /** U1 as fixed when sharing starts. */
  roster: KeyAdvertisement[] = [];
  /** U3 as fixed when unmasking starts. */
  survivors: string[] = [];
  /** Who advertised keys (U1, arrival order), dealt shares (U2), sent a masked input (U3), revealed shares. */
  readonly #sent: Record<SecurePhase | 'open', Set<string>> = { open: new Set(), sharing: new Set(), masking: new Set(), unmasking: new Set() };

  constructor(
    readonly taskId: string,
    /** The round's number, in refusals. */
    readonly round: number,
    parameters: number,
  ) {
    this.length = parameters + 1;
    this.#aggregator = new SecureAggregator({ taskId, round, length: this.length });
  }

  /** t: the fewest members the round goes on with (0 until sharing starts). */
  get threshold(): number {
    return this.#aggregator.threshold;
  }

  /** How many participants advertised keys. */
  get advertised(): number {
    return this.#sent.open.size;
  }

  // ── Messages, each from `id` (the token's participant); the caller checked the round's phase ──

  /** `open`: a participant's public keys, its advertisement bound to `id`. */
  receiveKeys(id: string, keys: Omit<KeyAdvertisement, 'id'>): void {
    if (this.#sent.open.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already advertised its keys for round ${this.round}`);
    guard(() => this.#aggregator.receiveKeys({ id, channelKey: keys.channelKey, maskKey: keys.maskKey }));
    this.#sent.open.add(id);
  }

  /** `sharing`: the roster U1, to a member. */
  rosterFor(id: string): KeyAdvertisement[] {
    this.requireMember('sharing', id);
    return this.roster;
  }

  /** `sharing`: a member's sealed shares, every one `from` it (else FORBIDDEN). */
  receiveShares(id: string, shares: EncryptedShare[]): void {
    this.requireMember('sharing', id);
    if (this.#sent.sharing.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its shares for round ${this.round}`);
    const forged = shares.find((s) => s.from !== id);
    if (forged) throw new DiscoApiError('FORBIDDEN', `a share from "${forged.from}" cannot come with ${id}'s token: every share's "from" must be the sender`);
    guard(() => this.#aggregator.receiveShares({ from: id, shares }));
    this.#sent.sharing.add(id);
  }

  /** `masking`: the shares sealed to a member that dealt. */
  sharesFor(id: string): EncryptedShare[] {
    this.requireMember('masking', id);
    return guard(() => this.#aggregator.sharesFor(id));
  }

  /** `masking`, before the body is read: `id` may send now; the size its masked input must have (bytes). */
  precheckMasked(id: string): number {
    this.requireMember('masking', id);
    if (this.#sent.masking.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already sent its masked input for round ${this.round}`);
    return this.length * 4;
  }

  /** `masking`: a masked input, added to the running sum and not kept. */
  receiveMasked(id: string, masked: Uint32Array): void {
    this.precheckMasked(id);
    checkMaskedLength(this.taskId, this.length, masked.length);
    guard(() => this.#aggregator.receiveMasked({ from: id, masked }));
    this.#sent.masking.add(id);
  }

  /** `unmasking`: whose inputs are in the sum, to a survivor. */
  unmaskRequest(id: string): UnmaskRequest {
    this.requireMember('unmasking', id);
    return { survivors: [...this.survivors] };
  }

  /** `unmasking`: a survivor's revealed shares. */
  receiveReveal(id: string, response: Omit<UnmaskResponse, 'from'>): void {
    this.requireMember('unmasking', id);
    if (this.#sent.unmasking.has(id)) throw new DiscoApiError('DUPLICATE_UPDATE', `this participant already revealed its shares for round ${this.round}`);
    guard(() => this.#aggregator.receiveUnmask({ from: id, ...response }));
    this.#sent.unmasking.add(id);
  }

  // ── Steps ──

  /** `open` closed: fixes the roster U1; the round's failure reason when it cannot start sharing. */
  openSharing(): string | undefined {
    try {
      this.roster = this.#aggregator.roster();
    } catch (error) {
      return `abandoned: ${(error as Error).message}`;
    }
    return undefined;
  }

  /** The members of step `phase`, and who of them has not sent. */
  stepInputs(phase: SecurePhase): SecureStepInputs {
    const members = phase === 'sharing' ? [...this.#sent.open] : phase === 'masking' ? [...this.#sent.sharing] : this.survivors;
    const sent = this.#sent[phase];
    const waiting = members.filter((id) => !sent.has(id));
    return { members, received: members.length - waiting.length, waiting };
  }

  /** `decideSecurePhase` on step `phase`; `active` says which of the waiting members are still active. */
  decide(phase: SecurePhase, clock: { deadlineAt: number; now: number }, active: (waiting: string[]) => ReadonlySet<string>): SecurePhaseDecision {
    const { members, received, waiting } = this.stepInputs(phase);
    const stillActive = active(waiting);
    return decideSecurePhase({
      phase,
      members: members.length,
      received,
      pending: waiting.filter((id) => stillActive.has(id)).length,
      threshold: this.#aggregator.threshold,
      ...clock,
    });
  }

  /** Closes step `phase` (its decision was `advance`) and returns the next phase. */
  advance(phase: SecurePhase): 'masking' | 'unmasking' | 'aggregating' {
    if (phase === 'sharing') {
      // The first relay closes the aggregator's step 1 (U2 fixed), whether or not anyone asks for shares.
      this.#aggregator.sharesFor([...this.#sent.sharing][0]);
      return 'masking';
    }
    if (phase === 'masking') {
      this.survivors = this.#aggregator.unmaskRequest().survivors;
      return 'unmasking';
    }
    return 'aggregating';
  }

  /**
   * `aggregating`: removes the masks (WebCrypto, asynchronous), decodes Σwu/Σw and Σw in the code every participant
   * encoded with (`secureEncoding` from |U1|) and hands them to `store`, whose returned text is a failure reason.
   */
  async unmask(task: Task, store: (mean: Float32Array, totalWeight: number) => string | undefined | void): Promise<UnmaskOutcome> {
    try {
      const sum = await this.#aggregator.result();
      const { mean, totalWeight } = decodeSum(sum, secureEncoding(task, this.roster.length, this.length - 1).code);
      return { problem: store(mean, totalWeight) ?? undefined };
    } catch (error) {
      if (error instanceof SecureAggregationError) return { problem: `abandoned: ${error.message}` };
      return { problem: `aggregation failed: ${(error as Error).message}`, error };
    }
  }

  /** `id` is a member of step `phase` (it sent the step before's message), else FORBIDDEN saying what it missed. */
  private requireMember(phase: SecurePhase, id: string): void {
    const before = phase === 'sharing' ? 'open' : phase === 'masking' ? 'sharing' : 'masking';
    if (!this.#sent[before].has(id))
      throw new DiscoApiError('FORBIDDEN', `participant ${id} takes no part in the ${phase} step of round ${this.round}: it ${NOT_MEMBER[phase]}`);
  }
}

/** A `SecureAggregationError` from a participant's message (malformed, incomplete, out of step) as BAD_REQUEST. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SecureAggregationError) throw new DiscoApiError('BAD_REQUEST', error.message);
    throw error;
  }
}
