import SimplePeer from 'simple-peer';
import { Emitter } from './emitter.js';
import { encodeFrames, FramingError, goodbyeFrame, isGoodbye, MAX_FRAME_BYTES, Reassembler } from './framing.js';
import type { IceServer, PeerSignal, PeerStats, RtcSignalData, WrtcImplementation } from './types.js';

/** The part of a simple-peer instance this transport uses (kept local so core's types need no Node streams). */
interface SimplePeerInstance {
  signal(data: RtcSignalData): void;
  write(chunk: Uint8Array): boolean;
  destroy(error?: Error): void;
  on(event: 'signal', listener: (data: RtcSignalData) => void): void;
  on(event: 'connect' | 'close' | 'drain', listener: () => void): void;
  on(event: 'data', listener: (data: Uint8Array) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  once(event: 'drain' | 'close', listener: () => void): void;
  removeListener(event: 'drain' | 'close', listener: () => void): void;
}
type SimplePeerConstructor = new (options: Record<string, unknown>) => SimplePeerInstance;

/** How long a closing connection stays up for its goodbye frame to leave. */
const GOODBYE_GRACE_MS = 100;

export type PeerConnectionState = 'new' | 'connecting' | 'connected' | 'closed' | 'failed';

export interface PeerConnectionOptions {
  localId: string;
  remoteId: string;
  /** Delivers a signal to the remote participant (through the signalling server). */
  sendSignal: (signal: PeerSignal) => Promise<void> | void;
  /** Node only: the WebRTC implementation (`nodeWrtc()` from `@disco/core/node`). Browsers use theirs. */
  wrtc?: WrtcImplementation;
  iceServers?: IceServer[];
  /** Time allowed to one connection attempt. Default 10 s. */
  connectTimeoutMs?: number;
  /** Attempts before the peer is reported as failed. Default 3. */
  attempts?: number;
  /** Largest data-channel message, framing header included. Default and maximum 64 KiB. */
  frameBytes?: number;
  /** Refuses incoming messages announcing more bytes than this. No limit by default. */
  maxMessageBytes?: number;
}

export interface PeerConnectionEvents {
  connect: [];
  message: [message: Uint8Array];
  close: [reason: string];
  /** Every attempt failed: the peer is unreachable for now. */
  failed: [reason: string];
  /** Non-fatal problems: a corrupted message (dropped), a failed attempt that will be retried. */
  error: [error: Error];
}

/** Raised when a peer could not be reached within the attempts allowed, or the connection closed. */
export class PeerConnectionError extends Error {
  constructor(
    readonly peerId: string,
    message: string,
  ) {
    super(message);
    this.name = 'PeerConnectionError';
  }
}

/**
 * One WebRTC data channel to another participant, over simple-peer, carrying binary messages of any
 * size: each is cut into frames of at most 64 KiB written with back-pressure (the next frame waits for
 * `drain` once the channel's buffer is full) and checked (length, CRC-32) on reassembly.
 *
 * Of a pair, the participant with the smaller id initiates; the other says `hello` and answers. Each
 * attempt has its own connection id and a timeout; a failed attempt is retried, and after the last one
 * {@link connect} rejects with a {@link PeerConnectionError}, so callers report the peer instead of waiting.
 *
 * @example
 * ```ts
 * const pc = new PeerConnection({ localId: 'a', remoteId: 'b', sendSignal: (s) => signalling.send('b', s) });
 * signalling.onSignal('b', (s) => pc.handleSignal(s));
 * pc.on('message', (bytes) => console.log(bytes.length));
 * await pc.connect();
 * await pc.send(new Uint8Array(20e6));
 * ```
 */
export class PeerConnection extends Emitter<PeerConnectionEvents> {
  readonly localId: string;
  readonly remoteId: string;
  /** True when this side makes the offers (the smaller id). */
  readonly initiator: boolean;
  readonly stats: PeerStats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  /** Milliseconds from the first attempt to the open data channel, once connected. */
  connectMs: number | undefined;

  readonly #options: Required<Pick<PeerConnectionOptions, 'connectTimeoutMs' | 'attempts' | 'frameBytes'>> & PeerConnectionOptions;
  readonly #reassembler: Reassembler;
  #state: PeerConnectionState = 'new';
  #peer: SimplePeerInstance | null = null;
  #connection = '';
  /** Initiator only: local ICE candidates held back until the answer arrived (see #startAttempt). */
  #heldCandidates: RtcSignalData[] | null = null;
  readonly #retired = new Set<string>();
  #connecting: Promise<void> | null = null;
  #attemptTimer: ReturnType<typeof setTimeout> | null = null;
  #settle: ((error?: Error) => void) | null = null;
  #sendChain: Promise<void> = Promise.resolve();
  #nextMessageId = 1;

  constructor(options: PeerConnectionOptions) {
    super();
    this.#options = { connectTimeoutMs: 10_000, attempts: 3, ...options, frameBytes: Math.min(options.frameBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES) };
    this.localId = options.localId;
    this.remoteId = options.remoteId;
    this.initiator = options.localId < options.remoteId;
    this.#reassembler = new Reassembler(options.maxMessageBytes);
  }

  get state(): PeerConnectionState {
    return this.#state;
  }

  /**
   * Connects, retrying up to `attempts` times; resolves once the data channel is open. Idempotent while
   * connecting or connected; after a close or failure it starts afresh.
   */
  connect(): Promise<void> {
    if (this.#state === 'connected') return Promise.resolve();
    if (this.#connecting) return this.#connecting;
    this.#state = 'connecting';
    const started = Date.now();
    this.#connecting = (async () => {
      const { attempts, connectTimeoutMs } = this.#options;
      let lastError: Error = new Error('not attempted');
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (this.#state !== 'connecting') break; // closed by the caller meanwhile
        const opened = new Promise<void>((resolve, reject) => {
          this.#settle = (error) => (error ? reject(error) : resolve());
        });
        if (this.initiator) this.#startAttempt(newConnectionId(), true);
        else this.#signal({ kind: 'hello' }); // the initiator (re)starts; its offer creates our answering side
        this.#attemptTimer = setTimeout(
          () => this.#settle?.(new Error(`attempt ${attempt} timed out after ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
        try {
          await opened;
          this.connectMs = Date.now() - started;
          this.#connecting = null;
          return;
        } catch (error) {
          lastError = error as Error;
          if (this.initiator) this.#dropPeer();
          if (attempt < attempts && this.#state === 'connecting')
            this.emit('error', new PeerConnectionError(this.remoteId, `peer ${this.remoteId}: ${lastError.message}; retrying`));
        } finally {
          if (this.#attemptTimer) clearTimeout(this.#attemptTimer);
          this.#settle = null;
        }
      }
      this.#dropPeer();
      this.#connecting = null;
      const failure = new PeerConnectionError(this.remoteId, `could not connect to peer ${this.remoteId} after ${attempts} attempt(s): ${lastError.message}`);
      if (this.#state === 'connecting') {
        this.#state = 'failed';
        this.emit('failed', failure.message);
      }
      throw failure;
    })();
    return this.#connecting;
  }

  /** Feeds a signal received from the remote participant. */
  handleSignal(signal: PeerSignal): void {
    if (this.#state === 'closed') return;
    if (signal.kind === 'hello') {
      // The responder asks for a (new) attempt: start one unless ours is still in flight.
      if (!this.initiator) return;
      if (this.#state === 'connecting') {
        if (!this.#peer) this.#startAttempt(newConnectionId(), true);
        return;
      }
      if (this.#state !== 'connected') void this.connect().catch(() => undefined);
      return;
    }
    if (signal.connection === this.#connection && this.#peer) {
      this.#peer.signal(signal.data);
      if (signal.data.type === 'answer') this.#releaseCandidates();
      return;
    }
    if (this.initiator || this.#retired.has(signal.connection)) return; // late signal of an abandoned attempt
    // A new attempt from the initiator: answer it on a fresh peer (replacing any previous connection).
    if (this.#state !== 'connecting') {
      this.#state = 'new';
      void this.connect().catch(() => undefined);
    }
    this.#startAttempt(signal.connection, false);
    this.#peer?.signal(signal.data);
  }

  /**
   * Sends one binary message of any size. Messages are sent one after the other, each as frames of at
   * most 64 KiB with back-pressure; resolves when the last frame is handed to the data channel.
   */
  send(message: Uint8Array): Promise<void> {
    const run = this.#sendChain.then(() => this.#sendNow(message));
    this.#sendChain = run.catch(() => undefined);
    return run;
  }

  /** Closes the connection, telling the other side (a goodbye frame); pending sends reject. */
  close(reason = 'closed locally'): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'connected' || this.#state === 'connecting';
    if (this.#state === 'connected' && this.#peer) {
      const peer = this.#peer;
      try {
        peer.write(goodbyeFrame());
      } catch {
        // closing anyway
      }
      // Give the goodbye a moment to leave before the channel is torn down.
      this.#dropPeer(GOODBYE_GRACE_MS);
    }
    this.#state = 'closed';
    this.#settle?.(new Error(reason));
    this.#dropPeer();
    if (wasOpen) this.emit('close', reason);
  }

  async #sendNow(message: Uint8Array): Promise<void> {
    const id = this.#nextMessageId++ >>> 0;
    for (const frame of encodeFrames(id, message, this.#options.frameBytes)) {
      const peer = this.#peer;
      if (this.#state !== 'connected' || !peer) throw new PeerConnectionError(this.remoteId, `peer ${this.remoteId} is not connected`);
      this.stats.bytesSent += frame.length;
      if (!peer.write(frame)) await waitForDrain(peer, this.remoteId);
    }
    this.stats.messagesSent++;
  }

  #startAttempt(connection: string, initiator: boolean): void {
    this.#dropPeer();
    this.#connection = connection;
    const Peer = SimplePeer as unknown as SimplePeerConstructor;
    const peer = new Peer({
      initiator,
      wrtc: this.#options.wrtc,
      config: { iceServers: this.#options.iceServers ?? [] },
      // Object mode keeps each data-channel message whole: every frame arrives as one 'data' event.
      objectMode: true,
    });
    this.#peer = peer;
    this.#heldCandidates = initiator ? [] : null;
    const current = () => this.#peer === peer;
    // The offerer's candidates go out only after the answer came back (and not inside the offer): otherwise
    // the answerer connects at once and its DTLS hello reaches an offerer that cannot yet accept it, which
    // then waits for the 1 s DTLS retransmission (node-datachannel), or fails outright.
    peer.on('signal', (data) => {
      if (!current()) return;
      if (data.type === 'offer' && data.sdp) data = { type: 'offer', sdp: withoutCandidates(data.sdp) };
      else if (data.type === 'candidate' && this.#heldCandidates) {
        this.#heldCandidates.push(data);
        return;
      }
      this.#signal({ kind: 'rtc', connection, data });
    });
    peer.on('connect', () => {
      if (!current()) return;
      this.#state = 'connected';
      this.#settle?.();
      this.emit('connect');
    });
    peer.on('data', (frame) => {
      if (!current()) return;
      this.stats.bytesReceived += frame.length;
      if (isGoodbye(frame)) {
        this.#dropPeer();
        this.#state = 'closed';
        this.emit('close', `peer ${this.remoteId} left`);
        return;
      }
      try {
        const done = this.#reassembler.push(frame);
        if (done) {
          this.stats.messagesReceived++;
          this.emit('message', done.message);
        }
      } catch (error) {
        this.emit('error', error instanceof FramingError ? error : new FramingError(String(error)));
      }
    });
    peer.on('error', (error) => {
      if (current()) this.#settle?.(error);
    });
    peer.on('close', () => {
      if (!current()) return;
      this.#peer = null;
      this.#reassembler.clear();
      if (this.#state === 'connected') {
        this.#state = 'closed';
        this.emit('close', `peer ${this.remoteId} disconnected`);
      } else this.#settle?.(new Error('connection closed while connecting'));
    });
  }

  #releaseCandidates(): void {
    const held = this.#heldCandidates;
    this.#heldCandidates = null;
    for (const data of held ?? []) this.#signal({ kind: 'rtc', connection: this.#connection, data });
  }

  #dropPeer(delayMs = 0): void {
    const peer = this.#peer;
    if (!peer) return;
    this.#peer = null;
    this.#retired.add(this.#connection);
    this.#reassembler.clear();
    if (delayMs) setTimeout(() => peer.destroy(), delayMs);
    else peer.destroy();
  }

  #signal(signal: PeerSignal): void {
    Promise.resolve(this.#options.sendSignal(signal)).catch((error: unknown) =>
      this.emit('error', new PeerConnectionError(this.remoteId, `signalling to ${this.remoteId} failed: ${(error as Error).message}`)),
    );
  }
}

function waitForDrain(peer: SimplePeerInstance, remoteId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      peer.removeListener('close', onClose);
      resolve();
    };
    const onClose = () => {
      peer.removeListener('drain', onDrain);
      reject(new PeerConnectionError(remoteId, `peer ${remoteId} closed while a message was being sent`));
    };
    peer.once('drain', onDrain);
    peer.once('close', onClose);
  });
}

function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && !line.startsWith('a=end-of-candidates'))
    .join('\r\n');
}

function newConnectionId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
