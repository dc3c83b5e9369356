// Secure aggregation among peers (decision 0010, "Decentralized"): every member of an all-to-all round is a client
// of the Bonawitz protocol and also runs its own aggregator over the same messages, so that no peer aggregates for
// the others and every member unmasks the same sum. Messages travel as bytes over any transport (PeerNetwork in
// DecentralizedClient, a Map in tests).
//
//   keys     each member broadcasts its two public keys                          → U1 (same ids + keys everywhere)
//   shares   each broadcasts its whole SharesMessage (sealed per recipient) and
//            the digest of its U1; every aggregator checks it is complete        → U2
//   masked   each broadcasts y (raw uint32 LE) and the digest of its U2           → H (the inputs it holds)
//   views    each broadcasts H; U3 = H ∩ every view received from H              → U3
//   unmask   each asks U3 for shares (its UnmaskRequest); each survivor answers every requester with
//            client.unmask(request), which never reveals both kinds of share of one participant
//
// A step closes when every member still reachable has sent, or at its deadline. A member that cannot go on (fewer
// than t, or views that do not agree) abandons the round: it unmasks nothing and keeps its model.
import { concatBytes, equalBytes, utf8 } from '../secure/bytes.js';
import { SecureAggregationError } from '../secure/errors.js';
import { compareIds, PUBLIC_KEY_BYTES } from '../secure/key-agreement.js';
import {
  SecureAggregationClient,
  SecureAggregator,
  type EncryptedShare,
  type KeyAdvertisement,
  type RevealedShare,
  type SharesMessage,
  type UnmaskRequest,
  type UnmaskResponse,
} from '../secure/masking.js';

/** Message kinds (the first byte of a peer message; 1–4 are DecentralizedClient's model messages). */
export const SECURE_KIND = {
  keys: 5,
  shares: 6,
  masked: 7,
  view: 8,
  unmaskRequest: 9,
  unmaskResponse: 10,
  refusal: 11,
} as const;
export type SecureMessageKind = keyof typeof SECURE_KIND;

const KINDS = new Map<number, SecureMessageKind>(Object.entries(SECURE_KIND).map(([k, v]) => [v, k as SecureMessageKind]));
const DIGEST_BYTES = 32;

/** A decoded secure-round message (the sender is the connection it came on, never a field). */
export type SecureMessage =
  | { kind: 'keys'; round: number; channelKey: Uint8Array; maskKey: Uint8Array }
  | { kind: 'shares'; round: number; rosterDigest: Uint8Array; shares: { to: string; ciphertext: Uint8Array }[] }
  | { kind: 'masked'; round: number; survivorsDigest: Uint8Array; masked: Uint32Array }
  | { kind: 'view'; round: number; holds: string[] }
  | { kind: 'unmaskRequest'; round: number; survivors: string[] }
  | { kind: 'unmaskResponse'; round: number; selfMaskShares: RevealedShare[]; maskKeyShares: RevealedShare[] }
  | { kind: 'refusal'; round: number; code: string; message: string };

/** Whether a peer message (its first byte) belongs to a secure round. */
export function isSecureMessage(message: Uint8Array): boolean {
  return message.length >= 5 && KINDS.has(message[0]);
}

/** The round a secure message belongs to (bytes 1–4, little-endian). */
export function secureMessageRound(message: Uint8Array): number {
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(1, true);
}

class Writer {
  readonly #parts: Uint8Array[] = [];
  u8(value: number): this {
    this.#parts.push(Uint8Array.of(value));
    return this;
  }
  u16(value: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, value, true);
    this.#parts.push(b);
    return this;
  }
  u32(value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, true);
    this.#parts.push(b);
    return this;
  }
  bytes(value: Uint8Array): this {
    this.#parts.push(value);
    return this;
  }
  /** Bytes of at most 65,535, length-prefixed. */
  blob(value: Uint8Array): this {
    if (value.length > 0xffff) throw new SecureAggregationError('range', `a field of ${value.length} bytes is too long for a secure-round message`);
    return this.u16(value.length).bytes(value);
  }
  id(value: string): this {
    const b = utf8(value);
    if (b.length > 0xff) throw new SecureAggregationError('range', `participant id "${value.slice(0, 20)}…" is longer than 255 bytes`);
    return this.u8(b.length).bytes(b);
  }
  ids(values: readonly string[]): this {
    this.u16(values.length);
    for (const v of values) this.id(v);
    return this;
  }
  revealed(values: readonly RevealedShare[]): this {
    this.u16(values.length);
    for (const v of values) this.id(v.of).blob(v.share);
    return this;
  }
  done(): Uint8Array {
    return concatBytes(...this.#parts);
  }
}

class Reader {
  #offset = 0;
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #need(n: number): void {
    if (this.#offset + n > this.bytes.length) throw new SecureAggregationError('protocol', 'a truncated secure-round message');
  }
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#offset++);
  }
  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#offset, true);
    this.#offset += 2;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return v;
  }
  take(n: number): Uint8Array {
    this.#need(n);
    const out = this.bytes.slice(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
  blob(): Uint8Array {
    return this.take(this.u16());
  }
  id(): string {
    return new TextDecoder().decode(this.take(this.u8()));
  }
  ids(): string[] {
    return Array.from({ length: this.u16() }, () => this.id());
  }
  revealed(): RevealedShare[] {
    return Array.from({ length: this.u16() }, () => ({ of: this.id(), share: this.blob() }));
  }
  rest(): Uint8Array {
    return this.take(this.bytes.length - this.#offset);
  }
  end(): void {
    if (this.#offset !== this.bytes.length) throw new SecureAggregationError('protocol', 'trailing bytes after a secure-round message');
  }
}

/** A secure-round message as bytes: kind (u8), round (u32 LE), then the kind's fields; the masked input as raw uint32 LE. */
export function encodeSecureMessage(message: SecureMessage): Uint8Array {
  const w = new Writer().u8(SECURE_KIND[message.kind]).u32(message.round);
  switch (message.kind) {
    case 'keys':
      return w.bytes(message.channelKey).bytes(message.maskKey).done();
    case 'shares':
      w.bytes(message.rosterDigest).u16(message.shares.length);
      for (const s of message.shares) w.id(s.to).blob(s.ciphertext);
      return w.done();
    case 'masked': {
      const words = new Uint8Array(message.masked.length * 4);
      const view = new DataView(words.buffer);
      for (let k = 0; k < message.masked.length; k++) view.setUint32(4 * k, message.masked[k], true);
      return w.bytes(message.survivorsDigest).bytes(words).done();
    }
    case 'view':
      return w.ids(message.holds).done();
    case 'unmaskRequest':
      return w.ids(message.survivors).done();
    case 'unmaskResponse':
      return w.revealed(message.selfMaskShares).revealed(message.maskKeyShares).done();
    case 'refusal':
      return w.id(message.code).blob(utf8(message.message)).done();
  }
}

/** Decodes {@link encodeSecureMessage}'s bytes. @throws SecureAggregationError `protocol` for malformed bytes. */
export function decodeSecureMessage(bytes: Uint8Array): SecureMessage {
  const r = new Reader(bytes);
  const kind = KINDS.get(r.u8());
  if (!kind) throw new SecureAggregationError('protocol', `not a secure-round message (kind ${bytes[0]})`);
  const round = r.u32();
  let message: SecureMessage;
  switch (kind) {
    case 'keys':
      message = { kind, round, channelKey: r.take(PUBLIC_KEY_BYTES), maskKey: r.take(PUBLIC_KEY_BYTES) };
      break;
    case 'shares': {
      const rosterDigest = r.take(DIGEST_BYTES);
      message = { kind, round, rosterDigest, shares: Array.from({ length: r.u16() }, () => ({ to: r.id(), ciphertext: r.blob() })) };
      break;
    }
    case 'masked': {
      const survivorsDigest = r.take(DIGEST_BYTES);
      const rest = r.rest();
      if (rest.length % 4) throw new SecureAggregationError('protocol', 'a masked input that is not whole 32-bit words');
      const view = new DataView(rest.buffer, rest.byteOffset, rest.byteLength);
      const masked = new Uint32Array(rest.length / 4);
      for (let k = 0; k < masked.length; k++) masked[k] = view.getUint32(4 * k, true);
      message = { kind, round, survivorsDigest, masked };
      break;
    }
    case 'view':
      message = { kind, round, holds: r.ids() };
      break;
    case 'unmaskRequest':
      message = { kind, round, survivors: r.ids() };
      break;
    case 'unmaskResponse':
      message = { kind, round, selfMaskShares: r.revealed(), maskKeyShares: r.revealed() };
      break;
    case 'refusal':
      message = { kind, round, code: r.id(), message: new TextDecoder().decode(r.blob()) };
      break;
  }
  r.end();
  return message;
}

/** How a secure round reaches the other members. */
export interface SecurePeerTransport {
  /** Sends bytes to a member; may reject (the member is then treated as gone). */
  send(to: string, message: Uint8Array): Promise<void>;
  /** Whether a member may still send (false once its connection failed or closed). */
  reachable(peer: string): boolean;
}

/** Absolute times (epoch ms) at which each step closes with whatever came. */
export interface SecureStepDeadlines {
  keys: number;
  shares: number;
  masked: number;
  views: number;
  unmask: number;
}

/** Options of a {@link SecurePeerRound}. */
export interface SecurePeerRoundOptions {
  /** This member's id. */
  id: string;
  taskId: string;
  round: number;
  /** The round's members, this one included (all-to-all: each is every other's neighbour). */
  members: readonly string[];
  /** The words each input has (d + 1 with the weight word). */
  length: number;
  transport: SecurePeerTransport;
  deadlines: SecureStepDeadlines;
  /** Ends every wait at once (the session stopped). */
  signal?: AbortSignal;
  /** Warnings (a refused message, a refusal to reveal). */
  log?: (message: string) => void;
}

/** A secure round's outcome on one member. */
export type SecurePeerOutcome =
  | {
      ok: true;
      /** Σ_{i∈U3} x_i mod 2^32, bit for bit the same on every member that completed. */
      sum: Uint32Array;
      /** The roster U1, the dealers U2 and the survivors U3 (ids, sorted). */
      roster: string[];
      dealers: string[];
      survivors: string[];
      threshold: number;
    }
  | { ok: false; reason: string };

type Inbox = { [K in SecureMessageKind]: Map<string, Extract<SecureMessage, { kind: K }>> };

class Abandon extends Error {}

/**
 * One member's side of a secure round among peers: the {@link SecureAggregationClient} of its input and a
 * {@link SecureAggregator} of its own over the same broadcast messages. Feed it every secure message of its round
 * with {@link receive} (messages may come before {@link setup}); call {@link setup} once (keys and shares, which do
 * not depend on the input: before training), then {@link aggregate} once with the fixed-point input. It goes on
 * answering other members' unmask requests after its own outcome, until {@link close}.
 *
 * @example
 * const secure = new SecurePeerRound({ id, taskId, round, members, transport, deadlines });
 * network.on('message', (from, bytes) => isSecureMessage(bytes) && secure.receive(from, bytes));
 * const { roster } = await secure.setup();
 * const outcome = await secure.aggregate(prepareSecureUpdate(…, secureEncoding(task, roster.length, d)).words);
 */
export class SecurePeerRound {
  readonly #o: SecurePeerRoundOptions;
  readonly #members: Set<string>;
  readonly #inbox: Inbox = { keys: new Map(), shares: new Map(), masked: new Map(), view: new Map(), unmaskRequest: new Map(), unmaskResponse: new Map(), refusal: new Map() };
  readonly #gone = new Set<string>();
  #waiters: (() => void)[] = [];
  #client: SecureAggregationClient | null = null;
  #aggregator: SecureAggregator | null = null;
  #roster: KeyAdvertisement[] = [];
  #rosterDigest: Uint8Array = new Uint8Array(0);
  #dealers: string[] = [];
  #dealersDigest: Uint8Array = new Uint8Array(0);
  #forMe: EncryptedShare[] = [];
  #masked = false;
  /** Setup or masking failed: requests are refused at once rather than left waiting. */
  #failed = false;
  #closed = false;
  /** Unmask requests not answered yet (they wait for this member's masking), and the members answered. */
  #requests: { from: string; survivors: string[] }[] = [];
  readonly #answered = new Set<string>();

  constructor(options: SecurePeerRoundOptions) {
    this.#o = options;
    this.#members = new Set(options.members);
    options.signal?.addEventListener('abort', () => this.#wake(), { once: true });
  }

  get round(): number {
    return this.#o.round;
  }

  /** Takes one message of this round from member `from` (anything else is ignored with a warning). */
  receive(from: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    let message: SecureMessage;
    try {
      message = decodeSecureMessage(bytes);
    } catch (error) {
      this.#log(`refused a secure-round message from ${from}: ${(error as Error).message}`);
      return;
    }
    if (message.round !== this.#o.round || !this.#members.has(from) || from === this.#o.id) return;
    if (message.kind === 'unmaskRequest') {
      // Every request is put to the client, which refuses whatever contradicts what it revealed before.
      this.#requests.push({ from, survivors: message.survivors });
      this.#answerPending();
      this.#wake();
      return;
    }
    const box = this.#inbox[message.kind] as Map<string, SecureMessage>;
    if (box.has(from)) {
      this.#log(`round ${this.#o.round}: a second ${message.kind} message from ${from} ignored`);
      return;
    }
    box.set(from, message);
    this.#wake();
  }

  /** A member's connection failed or closed: nothing more is waited for from it. */
  markGone(peer: string): void {
    this.#gone.add(peer);
    this.#wake();
  }

  /** Stops waiting and answering (the round is over for this member and for those it answered). */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /**
   * Steps 0 and 1: exchanges keys (closing U1) and sealed shares (closing U2). Returns U1's ids (the encoding's
   * participant count is its size), or throws `below-threshold` when too few took part (the round is abandoned).
   */
  async setup(): Promise<{ roster: string[] }> {
    try {
      return await this.#setup();
    } catch (error) {
      this.#fail();
      if (error instanceof Abandon) throw new SecureAggregationError('protocol', error.message);
      throw error;
    }
  }

  async #setup(): Promise<{ roster: string[] }> {
    const { id, taskId, round, deadlines, length } = this.#o;
    const client = (this.#client = await SecureAggregationClient.create({ id, taskId, round }));
    const own = client.advertise();
    const others = [...this.#members].filter((m) => m !== id);
    await this.#broadcast(others, { kind: 'keys', round, channelKey: own.channelKey, maskKey: own.maskKey });
    await this.#until(deadlines.keys, () => others.every((m) => this.#inbox.keys.has(m) || !this.#reachable(m)));

    // U1: every member whose keys came (the library refuses fewer than 3 and fixes t from its size).
    const roster: KeyAdvertisement[] = [own, ...[...this.#inbox.keys].map(([from, k]) => ({ id: from, channelKey: k.channelKey, maskKey: k.maskKey }))];
    const aggregator = (this.#aggregator = new SecureAggregator({ taskId, round, length }));
    for (const a of roster) aggregator.receiveKeys(a);
    this.#roster = aggregator.roster();
    this.#rosterDigest = await digest(this.#roster.flatMap((a) => [utf8(a.id), a.channelKey, a.maskKey]));
    const rosterIds = this.#roster.map((a) => a.id);

    const mine = await client.shareKeys(this.#roster);
    const peers = rosterIds.filter((m) => m !== id);
    await this.#broadcast(peers, { kind: 'shares', round, rosterDigest: this.#rosterDigest, shares: mine.shares.map((s) => ({ to: s.to, ciphertext: s.ciphertext })) });
    aggregator.receiveShares(mine);
    await this.#until(deadlines.shares, () => peers.every((m) => this.#inbox.shares.has(m) || !this.#reachable(m)));
    const dealers = [id];
    for (const [from, message] of this.#inbox.shares) {
      if (!rosterIds.includes(from)) continue;
      // A member that saw another U1 masks against other keys: its shares would not add up here.
      if (!equalBytes(message.rosterDigest, this.#rosterDigest)) {
        this.#log(`round ${round}: ${from} dealt shares for another roster; left out`);
        continue;
      }
      const shares: SharesMessage = { from, shares: message.shares.map((s) => ({ from, to: s.to, ciphertext: s.ciphertext })) };
      try {
        aggregator.receiveShares(shares);
        dealers.push(from);
      } catch (error) {
        this.#log(`round ${round}: shares from ${from} refused: ${(error as Error).message}`);
      }
    }
    this.#forMe = aggregator.sharesFor(id); // below-threshold: fewer than t dealt
    this.#dealers = dealers.sort(compareIds);
    this.#dealersDigest = await digest([this.#rosterDigest, ...this.#dealers.map(utf8)]);
    return { roster: rosterIds };
  }

  /**
   * Steps 2 and 3: masks `input` (d + 1 words), exchanges masked inputs and views, asks the survivors for their
   * shares and unmasks the sum. Never throws for the protocol's refusals: they end in `{ ok: false, reason }`.
   */
  async aggregate(input: Uint32Array): Promise<SecurePeerOutcome> {
    try {
      return await this.#aggregate(input);
    } catch (error) {
      this.#fail();
      if (error instanceof Abandon || error instanceof SecureAggregationError) return { ok: false, reason: error.message };
      throw error;
    }
  }

  async #aggregate(input: Uint32Array): Promise<SecurePeerOutcome> {
    const { id, round, deadlines } = this.#o;
    const client = this.#client;
    const aggregator = this.#aggregator;
    if (!client || !aggregator) throw new SecureAggregationError('protocol', 'aggregate() before setup()');
    const masked = await client.maskInput(this.#forMe, input);
    this.#masked = true;
    this.#answerPending();
    const peers = this.#dealers.filter((m) => m !== id);
    await this.#broadcast(peers, { kind: 'masked', round, survivorsDigest: this.#dealersDigest, masked: masked.masked });
    await this.#until(deadlines.masked, () => peers.every((m) => this.#inbox.masked.has(m) || !this.#reachable(m)));
    const held = new Map<string, Uint32Array>([[id, masked.masked]]);
    for (const [from, message] of this.#inbox.masked) {
      if (!peers.includes(from)) continue;
      if (!equalBytes(message.survivorsDigest, this.#dealersDigest)) this.#log(`round ${round}: ${from} masked against other dealers; left out`);
      else if (message.masked.length !== input.length) this.#log(`round ${round}: ${from}'s masked input has ${message.masked.length} words, not ${input.length}; left out`);
      else held.set(from, message.masked);
    }

    // Views: a masked input that reached some members and not others would make them ask contradictory questions.
    const holds = [...held.keys()].sort(compareIds);
    await this.#broadcast(peers, { kind: 'view', round, holds });
    const others = holds.filter((m) => m !== id);
    await this.#until(deadlines.views, () => others.every((m) => this.#inbox.view.has(m) || !this.#reachable(m)));
    let survivors = holds;
    for (const m of others) {
      const view = this.#inbox.view.get(m);
      if (view) survivors = survivors.filter((s) => view.holds.includes(s));
    }
    if (!survivors.includes(id)) throw new Abandon(`round ${round}: this member's masked input did not reach every survivor in time; the round is abandoned here`);

    for (const s of survivors) aggregator.receiveMasked({ from: s, masked: held.get(s)! });
    const request: UnmaskRequest = aggregator.unmaskRequest();
    const asked = request.survivors.filter((m) => m !== id);
    await this.#broadcast(asked, { kind: 'unmaskRequest', round, survivors: request.survivors });
    aggregator.receiveUnmask(client.unmask(request));
    await this.#until(deadlines.unmask, () => asked.every((m) => this.#inbox.unmaskResponse.has(m) || this.#inbox.refusal.has(m) || !this.#reachable(m)));
    for (const m of asked) {
      const response = this.#inbox.unmaskResponse.get(m);
      if (response) aggregator.receiveUnmask({ from: m, selfMaskShares: response.selfMaskShares, maskKeyShares: response.maskKeyShares });
      const refusal = this.#inbox.refusal.get(m);
      if (refusal) this.#log(`round ${round}: ${m} refused to reveal shares (${refusal.code}): ${refusal.message}`);
    }
    const sum = await aggregator.result();
    return { ok: true, sum, roster: this.#roster.map((a) => a.id), dealers: [...this.#dealers], survivors: [...request.survivors], threshold: aggregator.threshold };
  }

  /** Answers the requests that came, with this member's client (once masked); a refusal is sent back, never shares. */
  #answerPending(): void {
    if (!(this.#masked || this.#failed) || this.#closed) return;
    const requests = this.#requests;
    this.#requests = [];
    for (const request of requests) this.#answer(request.from, request);
  }

  #answer(from: string, request: UnmaskRequest): void {
    this.#answered.add(from);
    const round = this.#o.round;
    let reply: SecureMessage;
    try {
      if (!this.#client) throw new SecureAggregationError('protocol', `${this.#o.id} abandoned round ${round} before masking`);
      const response: UnmaskResponse = this.#client.unmask({ survivors: request.survivors });
      reply = { kind: 'unmaskResponse', round, selfMaskShares: response.selfMaskShares, maskKeyShares: response.maskKeyShares };
    } catch (error) {
      if (!(error instanceof SecureAggregationError)) throw error;
      this.#log(`round ${round}: refused to reveal shares to ${from} (${error.code}): ${error.message}`);
      reply = { kind: 'refusal', round, code: error.code, message: error.message };
    }
    this.#o.transport.send(from, encodeSecureMessage(reply)).catch(() => this.markGone(from));
  }

  #fail(): void {
    this.#failed = true;
    this.#answerPending();
  }

  /**
   * Resolves once every dealer still reachable has had its unmask request answered, or at `deadline`: a member
   * about to leave waits for it, since the others may still need its shares.
   */
  async settled(deadline: number): Promise<void> {
    const others = this.#dealers.filter((m) => m !== this.#o.id);
    try {
      await this.#until(deadline, () => others.every((m) => this.#answered.has(m) || !this.#reachable(m)));
    } catch {
      // Stopped: nothing more to wait for.
    }
  }

  async #broadcast(to: readonly string[], message: SecureMessage): Promise<void> {
    const bytes = encodeSecureMessage(message);
    await Promise.all(to.filter((m) => this.#reachable(m)).map((m) => this.#o.transport.send(m, bytes).catch(() => this.markGone(m))));
  }

  #reachable(peer: string): boolean {
    return !this.#gone.has(peer) && this.#o.transport.reachable(peer);
  }

  /** Waits until `done()` or the deadline (re-checking reachability every 250 ms). */
  async #until(deadline: number, done: () => boolean): Promise<void> {
    for (;;) {
      if (this.#closed || this.#o.signal?.aborted) throw new Abandon(`round ${this.#o.round}: stopped`);
      const left = deadline - Date.now();
      if (done() || left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #log(message: string): void {
    this.#o.log?.(message);
  }
}

async function digest(parts: Uint8Array[]): Promise<Uint8Array> {
  // Each part length-prefixed, so that no two lists of parts hash alike.
  const framed = parts.flatMap((p) => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, p.length, true);
    return [length, p];
  });
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', concatBytes(...framed)));
}
