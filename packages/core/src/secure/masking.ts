// Secure aggregation after Bonawitz et al. 2017 (semi-honest variant, no consistency-check round), as a client and
// an aggregator over byte messages; no networking. The threat model is docs/decisions/0010-secure-aggregation.md.
//
//   0. advertise:  each client i sends its channel key c_i and mask key s_i (public halves).        roster U1
//   1. shareKeys:  i draws a self-mask seed b_i, Shamir-shares b_i and its mask-key scalar t-of-|U1| and seals
//                  each participant's pair of shares to it.                                          U2 (sent shares)
//   2. maskInput:  y_i = x_i + PRG(b_i) + Σ_{j∈U2, j>i} PRG(s_ij) − Σ_{j∈U2, j<i} PRG(s_ij)  mod 2^32.  U3 (sent y)
//   3. unmask:     for j ∈ U3 a survivor reveals its share of b_j; for j ∈ U2 \ U3 (shared keys, never masked),
//                  its share of j's mask key; never both for one j. The aggregator subtracts the self-masks of U3
//                  and the pairwise masks between U3 and U2 \ U3: what is left is Σ_{i∈U3} x_i.
import { SecureAggregationError } from './errors.js';
import { concatBytes } from './bytes.js';
import { deriveChannelKey, openFromPeer, sealForPeer } from './channel.js';
import { addModular, subtractModular } from './fixed-point.js';
import {
  compareIds,
  deriveSharedSeed,
  exportPrivateScalar,
  generateAgreementKeyPair,
  importPrivateScalar,
  PRIVATE_KEY_BYTES,
  type AgreementKeyPair,
} from './key-agreement.js';
import { expandSeed, randomSeed, SEED_BYTES } from './prg.js';
import { combineShares, splitSecret, type Share } from './shamir.js';

/** The fewest participants of a secure round: with two, the sum gives each the other's update. */
export const MIN_SECURE_PARTICIPANTS = 3;

/**
 * The default threshold t for a roster of n: a strict majority, ⌊n/2⌋ + 1. Any t survivors can unmask, and since
 * t > n/2, two disjoint groups cannot both reach t (what a server telling them different drop-out stories would need).
 */
export function secureThreshold(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Step 0, client → aggregator → every client: a participant's two public keys, as raw bytes. */
export interface KeyAdvertisement {
  /** The participant id (bound to its token by the server that relays this). */
  id: string;
  /** The public key of the channel that carries shares to this participant. */
  channelKey: Uint8Array;
  /** The public key from which the pairwise mask seeds are agreed (its scalar is Shamir-shared). */
  maskKey: Uint8Array;
}

/** Shares sealed by `from` for `to`, relayed blind by the aggregator. */
export interface EncryptedShare {
  /** The sender. */
  from: string;
  /** The recipient. */
  to: string;
  /** IV ‖ AES-GCM(share of b_from ‖ share of from's mask-key scalar). */
  ciphertext: Uint8Array;
}

/** Step 1, client → aggregator: one sealed pair of shares for every other member of the roster. */
export interface SharesMessage {
  /** The sender. */
  from: string;
  /** One per other roster member. */
  shares: EncryptedShare[];
}

/** Step 2, client → aggregator: the masked fixed-point input. */
export interface MaskedInput {
  /** The sender. */
  from: string;
  /** x + masks mod 2^32, as long as the input. */
  masked: Uint32Array;
}

/** Step 3, aggregator → survivors: whose masked inputs the aggregator holds (U3); everyone else in U2 dropped. */
export interface UnmaskRequest {
  /** The participants whose masked inputs are in the sum. */
  survivors: string[];
}

/** One share a survivor reveals of participant `of`'s secret. */
export interface RevealedShare {
  /** Whose secret this is a share of. */
  of: string;
  /** The share's bytes (its index is the revealing participant's). */
  share: Uint8Array;
}

/** Step 3, survivor → aggregator: shares of the survivors' self-mask seeds and of the dropped ones' mask keys. */
export interface UnmaskResponse {
  /** The revealing participant. */
  from: string;
  /** Shares of b_j for each j in U3. */
  selfMaskShares: RevealedShare[];
  /** Shares of the mask-key scalar of each j in U2 \ U3. */
  maskKeyShares: RevealedShare[];
}

/** What both sides of a round agree on before it starts. */
export interface SecureRoundOptions {
  /** The task, bound into every derived key. */
  taskId: string;
  /** The round number, bound into every derived key. */
  round: number;
  /** t; {@link secureThreshold} of the roster's size when absent. Must be > n/2 and ≤ n. */
  threshold?: number;
}

/** A client's options: the round's, and its own id. */
export interface SecureClientOptions extends SecureRoundOptions {
  /** This participant's id, as the server knows it. */
  id: string;
}

function checkThreshold(threshold: number | undefined, n: number): number {
  if (n < MIN_SECURE_PARTICIPANTS) {
    throw new SecureAggregationError('below-threshold', `a secure round needs at least ${MIN_SECURE_PARTICIPANTS} participants, the roster has ${n}`);
  }
  const t = threshold ?? secureThreshold(n);
  if (!Number.isInteger(t) || t <= n / 2 || t > n) {
    throw new SecureAggregationError('range', `the threshold must be a whole number above n/2 and at most n = ${n}, not ${t}`);
  }
  return t;
}

function checkRoster(roster: readonly KeyAdvertisement[]): KeyAdvertisement[] {
  const sorted = [...roster].sort((a, b) => compareIds(a.id, b.id));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].id === sorted[i - 1].id) throw new SecureAggregationError('protocol', `participant ${sorted[i].id} appears twice in the roster`);
  }
  return sorted;
}

function pairwiseSign(self: string, other: string): 1 | -1 {
  return compareIds(self, other) < 0 ? 1 : -1;
}

type Phase = 'created' | 'shared' | 'masked';

/**
 * One participant's side of a secure round. Each method is one step and is called once, in order, except
 * {@link SecureAggregationClient.unmask}, which may be asked again but never reveals both kinds of share of one
 * participant.
 *
 * @example
 * const client = await SecureAggregationClient.create({ id, taskId, round });
 * send(client.advertise());
 * send(await client.shareKeys(roster));
 * send(await client.maskInput(sharesForMe, encodeUpdate({ update, weight }, code)));
 * send(client.unmask(request));
 */
export class SecureAggregationClient {
  readonly #options: SecureClientOptions;
  readonly #channel: AgreementKeyPair;
  readonly #mask: AgreementKeyPair;
  #phase: Phase = 'created';
  #roster: KeyAdvertisement[] = [];
  #threshold = 0;
  #selfMaskSeed: Uint8Array = new Uint8Array(0);
  /** The shares this client holds, of each participant that dealt to it (itself included). */
  readonly #held = new Map<string, { selfMask: Uint8Array; maskKey: Uint8Array }>();
  /** The channel key shared with each other member, derived once. */
  readonly #channelKeys = new Map<string, Promise<CryptoKey>>();
  /** What has been revealed of each participant in this round. */
  readonly #revealed = new Map<string, 'self-mask' | 'mask-key'>();

  private constructor(options: SecureClientOptions, channel: AgreementKeyPair, mask: AgreementKeyPair) {
    this.#options = options;
    this.#channel = channel;
    this.#mask = mask;
  }

  /** A client with two fresh P-256 key pairs for this round (never reuse a client across rounds). */
  static async create(options: SecureClientOptions): Promise<SecureAggregationClient> {
    const [channel, mask] = await Promise.all([generateAgreementKeyPair(), generateAgreementKeyPair()]);
    return new SecureAggregationClient(options, channel, mask);
  }

  /** This participant's id. */
  get id(): string {
    return this.#options.id;
  }

  /** Step 0: the public keys to send to the aggregator. */
  advertise(): KeyAdvertisement {
    return { id: this.#options.id, channelKey: this.#channel.publicKey, maskKey: this.#mask.publicKey };
  }

  /**
   * Step 1: from the roster U1 the aggregator relays (this client's advertisement in it), draws b, splits b and the
   * mask-key scalar t-of-|U1| and seals each member's shares to it.
   *
   * @throws SecureAggregationError `protocol` for a roster without this client's keys or with a repeated id,
   *   `below-threshold` for fewer than 3 members, `range` for a threshold that is not a strict majority.
   */
  async shareKeys(roster: readonly KeyAdvertisement[]): Promise<SharesMessage> {
    this.#expect('created', 'share keys');
    const sorted = checkRoster(roster);
    const mine = sorted.find((a) => a.id === this.id);
    if (!mine || !sameKeys(mine, this.advertise())) throw new SecureAggregationError('protocol', `the roster does not carry ${this.id}'s own keys`);
    this.#threshold = checkThreshold(this.#options.threshold, sorted.length);
    this.#roster = sorted;
    this.#selfMaskSeed = randomSeed();
    const scalar = await exportPrivateScalar(this.#mask.privateKey);
    const options = { threshold: this.#threshold, shares: sorted.length };
    const selfMaskShares = splitSecret(this.#selfMaskSeed, options);
    const maskKeyShares = splitSecret(scalar, options);
    const own = sorted.findIndex((member) => member.id === this.id);
    this.#held.set(this.id, { selfMask: selfMaskShares[own].value, maskKey: maskKeyShares[own].value });
    const shares = await Promise.all(
      sorted.flatMap((member, i) => member.id === this.id ? [] : [(async (): Promise<EncryptedShare> => {
        const plaintext = concatBytes(selfMaskShares[i].value, maskKeyShares[i].value);
        const context = this.#context(this.id, member.id);
        return { from: this.id, to: member.id, ciphertext: await sealForPeer(await this.#channelKey(member), context, plaintext) };
      })()]),
    );
    this.#phase = 'shared';
    return { from: this.id, shares };
  }

  /**
   * Step 2: opens the shares dealt to this client (their senders, with it, are U2) and masks its fixed-point input:
   * y = x + PRG(b) + Σ_{j∈U2, j>i} PRG(s_ij) − Σ_{j∈U2, j<i} PRG(s_ij) mod 2^32.
   *
   * @throws SecureAggregationError `below-threshold` when fewer than t participants dealt shares (U2), `protocol`
   *   for a share from outside the roster, addressed to another, repeated, or that does not open.
   */
  async maskInput(received: readonly EncryptedShare[], input: Uint32Array): Promise<MaskedInput> {
    this.#expect('shared', 'mask its input');
    const senders = new Set<string>();
    for (const message of received) {
      if (!this.#roster.some((a) => a.id === message.from) || message.to !== this.id || message.from === this.id || senders.has(message.from)) {
        throw new SecureAggregationError('protocol', `unexpected shares from ${message.from} to ${message.to}`);
      }
      senders.add(message.from);
    }
    const opened = await Promise.all(received.map(async (message) => {
      const sender = this.#roster.find((a) => a.id === message.from)!;
      const plain = await openFromPeer(await this.#channelKey(sender), this.#context(message.from, this.id), message.ciphertext);
      if (plain.length !== SEED_BYTES + PRIVATE_KEY_BYTES) throw new SecureAggregationError('protocol', `the shares from ${message.from} have the wrong length`);
      return [message.from, plain] as const;
    }));
    for (const [from, plain] of opened) this.#held.set(from, { selfMask: plain.slice(0, SEED_BYTES), maskKey: plain.slice(SEED_BYTES) });
    if (this.#held.size < this.#threshold) {
      throw new SecureAggregationError('below-threshold', `only ${this.#held.size} participants dealt shares, fewer than the threshold ${this.#threshold}: the round is abandoned`);
    }
    const masked = Uint32Array.from(input);
    addModular(masked, await expandSeed(this.#selfMaskSeed, input.length));
    const peers = this.#roster.filter((member) => member.id !== this.id && this.#held.has(member.id));
    const seeds = await Promise.all(peers.map((member) => deriveSharedSeed(this.#mask.privateKey, member.maskKey, this.#maskContext(member.id))));
    // One mask at a time, so that memory stays at two model-sized vectors however many peers there are.
    for (const [k, member] of peers.entries()) {
      const mask = await expandSeed(seeds[k], input.length);
      if (pairwiseSign(this.id, member.id) > 0) addModular(masked, mask);
      else subtractModular(masked, mask);
    }
    this.#selfMaskSeed = new Uint8Array(0);
    this.#phase = 'masked';
    return { from: this.id, masked };
  }

  /**
   * Step 3: for each survivor j (U3) its share of b_j; for each j of U2 \ U3 its share of j's mask-key scalar.
   * Checks everything before revealing anything.
   *
   * @throws SecureAggregationError `below-threshold` when fewer than t survivors are announced (nothing is
   *   revealed), `double-reveal` when a survivor now was announced dropped before (or the reverse) in this round,
   *   `protocol` for a survivor outside U2, a repeated one, or a list without this client.
   */
  unmask(request: UnmaskRequest): UnmaskResponse {
    this.#expect('masked', 'reveal shares');
    const survivors = new Set(request.survivors);
    if (survivors.size !== request.survivors.length) throw new SecureAggregationError('protocol', 'a survivor is listed twice');
    for (const id of survivors) {
      if (!this.#held.has(id)) throw new SecureAggregationError('protocol', `survivor ${id} never dealt shares to ${this.id}`);
    }
    if (!survivors.has(this.id)) throw new SecureAggregationError('protocol', `${this.id} is asked to unmask a sum its own input is not in`);
    if (survivors.size < this.#threshold) {
      throw new SecureAggregationError('below-threshold', `${survivors.size} survivors are fewer than the threshold ${this.#threshold}: the round is abandoned, nothing is revealed`);
    }
    const kinds = new Map<string, 'self-mask' | 'mask-key'>();
    for (const id of this.#held.keys()) kinds.set(id, survivors.has(id) ? 'self-mask' : 'mask-key');
    for (const [id, kind] of kinds) {
      const before = this.#revealed.get(id);
      if (before && before !== kind) {
        throw new SecureAggregationError('double-reveal', `${this.id} already revealed a ${before} share of ${id} this round and refuses its ${kind} share`);
      }
    }
    const response: UnmaskResponse = { from: this.id, selfMaskShares: [], maskKeyShares: [] };
    for (const [id, kind] of kinds) {
      this.#revealed.set(id, kind);
      const held = this.#held.get(id)!;
      if (kind === 'self-mask') response.selfMaskShares.push({ of: id, share: held.selfMask });
      else response.maskKeyShares.push({ of: id, share: held.maskKey });
    }
    return response;
  }

  #expect(phase: Phase, action: string): void {
    if (this.#phase !== phase) throw new SecureAggregationError('protocol', `${this.id} cannot ${action} now (step: ${this.#phase})`);
  }

  #channelKey(member: KeyAdvertisement): Promise<CryptoKey> {
    let key = this.#channelKeys.get(member.id);
    if (!key) {
      key = deriveChannelKey(this.#channel.privateKey, member.channelKey, this.#context(this.id, member.id));
      this.#channelKeys.set(member.id, key);
    }
    return key;
  }

  #context(from: string, to: string) {
    return { taskId: this.#options.taskId, round: this.#options.round, from, to };
  }

  #maskContext(other: string) {
    return { taskId: this.#options.taskId, round: this.#options.round, pair: [this.id, other] as const, purpose: 'mask' as const };
  }
}

function sameKeys(a: KeyAdvertisement, b: KeyAdvertisement): boolean {
  return a.channelKey.length === b.channelKey.length && a.maskKey.length === b.maskKey.length
    && a.channelKey.every((v, i) => v === b.channelKey[i]) && a.maskKey.every((v, i) => v === b.maskKey[i]);
}

/** An aggregator's options: the round's, and the length of the inputs (d + 1 words with the weight). */
export interface SecureAggregatorOptions extends SecureRoundOptions {
  /** The number of uint32 words each masked input has. */
  length: number;
}

type AggregatorPhase = 'keys' | 'shares' | 'masked' | 'unmasking' | 'done' | 'abandoned';

/**
 * The aggregator's side (the server, or a peer): relays keys and sealed shares, sums the masked inputs as they come
 * (it keeps the running sum, never an individual input), and unmasks the sum from the survivors' shares. Any step
 * with fewer than t participants abandons the round.
 */
export class SecureAggregator {
  readonly #options: SecureAggregatorOptions;
  #phase: AggregatorPhase = 'keys';
  readonly #keys = new Map<string, KeyAdvertisement>();
  #threshold = 0;
  #index = new Map<string, number>();
  readonly #shares = new Map<string, EncryptedShare[]>();
  #sum: Uint32Array;
  readonly #masked = new Set<string>();
  #survivors: string[] = [];
  readonly #responses = new Map<string, UnmaskResponse>();

  /** @param options the task, round, threshold (a strict majority of the roster by default) and input length. */
  constructor(options: SecureAggregatorOptions) {
    this.#options = options;
    this.#sum = new Uint32Array(options.length);
  }

  /** Whether the round was abandoned (fewer than t at some step); then nothing will be unmasked. */
  get abandoned(): boolean {
    return this.#phase === 'abandoned';
  }

  /** Step 0: one participant's public keys. */
  receiveKeys(advertisement: KeyAdvertisement): void {
    this.#expect('keys', 'take keys');
    if (this.#keys.has(advertisement.id)) throw new SecureAggregationError('protocol', `${advertisement.id} sent its keys twice`);
    this.#keys.set(advertisement.id, advertisement);
  }

  /** Closes step 0: the roster U1 to relay to every member (fixes t from its size). */
  roster(): KeyAdvertisement[] {
    if (this.#phase === 'keys') {
      const sorted = checkRoster([...this.#keys.values()]);
      this.#threshold = this.#guard(() => checkThreshold(this.#options.threshold, sorted.length));
      this.#index = new Map(sorted.map((a, i) => [a.id, i + 1]));
      this.#phase = 'shares';
    }
    return [...this.#keys.values()].sort((a, b) => compareIds(a.id, b.id));
  }

  /** The threshold t of this round (0 before the roster is closed). */
  get threshold(): number {
    return this.#threshold;
  }

  /** Step 1: one member's sealed shares, one for each other member. */
  receiveShares(message: SharesMessage): void {
    this.#expect('shares', 'take shares');
    if (!this.#index.has(message.from) || this.#shares.has(message.from)) {
      throw new SecureAggregationError('protocol', `shares from ${message.from}, outside the roster or again`);
    }
    const recipients = new Set(message.shares.map((s) => s.to));
    const complete = recipients.size === this.#index.size - 1 && message.shares.length === recipients.size
      && message.shares.every((s) => s.from === message.from && s.to !== message.from && this.#index.has(s.to));
    if (!complete) throw new SecureAggregationError('protocol', `${message.from} must seal one share for each other member of the roster`);
    this.#shares.set(message.from, message.shares);
  }

  /**
   * The sealed shares to relay to `id`: those of every member that dealt (U2). The first call closes step 1.
   * @throws SecureAggregationError `below-threshold` (the round is abandoned) when fewer than t dealt shares.
   */
  sharesFor(id: string): EncryptedShare[] {
    if (this.#phase === 'shares') {
      this.#guard(() => this.#atLeastThreshold(this.#shares.size, 'participants dealt shares'));
      this.#phase = 'masked';
    }
    this.#expect('masked', 'relay shares');
    if (!this.#shares.has(id)) throw new SecureAggregationError('protocol', `${id} dealt no shares and takes no part in masking`);
    return [...this.#shares.values()].flatMap((shares) => shares.filter((s) => s.to === id));
  }

  /** Step 2: one masked input, added to the running sum mod 2^32 and not kept. */
  receiveMasked(message: MaskedInput): void {
    this.#expect('masked', 'take masked inputs');
    if (!this.#shares.has(message.from) || this.#masked.has(message.from)) {
      throw new SecureAggregationError('protocol', `a masked input from ${message.from}, who dealt no shares or sent one already`);
    }
    if (message.masked.length !== this.#options.length) {
      throw new SecureAggregationError('protocol', `${message.from}'s masked input has ${message.masked.length} words, not ${this.#options.length}`);
    }
    addModular(this.#sum, message.masked);
    this.#masked.add(message.from);
  }

  /**
   * Closes step 2: the survivors U3 (whose masked inputs are in the sum), to send to each of them.
   * @throws SecureAggregationError `below-threshold` (the round is abandoned) when fewer than t masked inputs came.
   */
  unmaskRequest(): UnmaskRequest {
    if (this.#phase === 'masked') {
      this.#guard(() => this.#atLeastThreshold(this.#masked.size, 'masked inputs arrived'));
      this.#survivors = [...this.#masked].sort(compareIds);
      this.#phase = 'unmasking';
    }
    this.#expect('unmasking', 'ask for shares');
    return { survivors: [...this.#survivors] };
  }

  /** Step 3: one survivor's revealed shares. */
  receiveUnmask(response: UnmaskResponse): void {
    this.#expect('unmasking', 'take revealed shares');
    if (!this.#masked.has(response.from) || this.#responses.has(response.from)) {
      throw new SecureAggregationError('protocol', `revealed shares from ${response.from}, not a survivor or again`);
    }
    this.#responses.set(response.from, response);
  }

  /**
   * Closes the round: reconstructs each survivor's self-mask seed and each dropped participant's mask key from t
   * shares and removes their masks. Returns Σ_{i∈U3} x_i mod 2^32, bit for bit.
   *
   * @throws SecureAggregationError `below-threshold` (the round is abandoned, nothing is unmasked) when fewer than
   *   t survivors revealed shares, or fewer than t shares came for one secret.
   */
  async result(): Promise<Uint32Array> {
    this.#expect('unmasking', 'unmask');
    this.#guard(() => this.#atLeastThreshold(this.#responses.size, 'survivors revealed shares'));
    const dropped = [...this.#shares.keys()].filter((id) => !this.#masked.has(id)).sort(compareIds);
    const length = this.#options.length;
    const sum = Uint32Array.from(this.#sum);
    for (const id of this.#survivors) {
      const seed = this.#reconstruct(id, 'selfMaskShares', SEED_BYTES);
      subtractModular(sum, await expandSeed(seed, length));
    }
    for (const id of dropped) {
      const advertisement = this.#keys.get(id)!;
      const scalar = this.#reconstruct(id, 'maskKeyShares', PRIVATE_KEY_BYTES);
      const privateKey = await importPrivateScalar(scalar, advertisement.maskKey);
      for (const survivor of this.#survivors) {
        const context = { taskId: this.#options.taskId, round: this.#options.round, pair: [id, survivor] as const, purpose: 'mask' as const };
        const mask = await expandSeed(await deriveSharedSeed(privateKey, this.#keys.get(survivor)!.maskKey, context), length);
        // The survivor added PRG(s) when it sorts before the dropped one, and subtracted it otherwise.
        if (pairwiseSign(survivor, id) > 0) subtractModular(sum, mask);
        else addModular(sum, mask);
      }
    }
    this.#phase = 'done';
    return sum;
  }

  #reconstruct(of: string, kind: 'selfMaskShares' | 'maskKeyShares', bytes: number): Uint8Array {
    const shares: Share[] = [];
    for (const response of this.#responses.values()) {
      const revealed = response[kind].find((r) => r.of === of);
      if (revealed && revealed.share.length === bytes) shares.push({ index: this.#index.get(response.from)!, value: revealed.share });
    }
    return this.#guard(() => {
      if (shares.length < this.#threshold) {
        throw new SecureAggregationError('below-threshold', `${shares.length} shares of ${of}'s ${kind === 'selfMaskShares' ? 'self-mask' : 'mask key'} are fewer than the threshold ${this.#threshold}: the round is abandoned`);
      }
      return combineShares(shares, this.#threshold);
    });
  }

  #atLeastThreshold(count: number, what: string): void {
    if (count < this.#threshold) {
      throw new SecureAggregationError('below-threshold', `only ${count} ${what}, fewer than the threshold ${this.#threshold}: the round is abandoned and nothing is unmasked`);
    }
  }

  /** Runs a check; a `below-threshold` failure abandons the round for good. */
  #guard<T>(check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (error instanceof SecureAggregationError && error.code === 'below-threshold') {
        this.#phase = 'abandoned';
        this.#sum.fill(0);
      }
      throw error;
    }
  }

  #expect(phase: AggregatorPhase, action: string): void {
    if (this.#phase !== phase) {
      const why = this.#phase === 'abandoned' ? 'the round was abandoned' : `step: ${this.#phase}`;
      throw new SecureAggregationError('protocol', `the aggregator cannot ${action} now (${why})`);
    }
  }
}
