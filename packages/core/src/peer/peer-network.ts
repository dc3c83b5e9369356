import { Emitter } from './emitter.js';
import { PeerConnection, type PeerConnectionOptions } from './peer-connection.js';
import type { PeerSignal, PeerStats, SignalSender } from './types.js';

export interface PeerNetworkOptions extends Omit<PeerConnectionOptions, 'localId' | 'remoteId' | 'sendSignal'> {
  /** This participant's id, as the signalling server knows it. */
  localId: string;
  /** Delivers a signal to another participant (the peers router's `signal` procedure). */
  sendSignal: SignalSender;
  /** Whether to answer a participant that connects first. Default: everyone the server relays. */
  accept?: (peerId: string) => boolean;
}

export interface PeerNetworkEvents {
  /** A data channel to `peerId` opened (`ms`: set-up time). */
  connect: [peerId: string, ms: number];
  /** A connection that was open closed. */
  disconnect: [peerId: string, reason: string];
  /** `peerId` could not be reached after every attempt. */
  failed: [peerId: string, reason: string];
  message: [peerId: string, message: Uint8Array];
  /** Non-fatal: a corrupted message dropped, an attempt retried, a signal that could not be sent. */
  error: [peerId: string, error: Error];
}

export interface ConnectResult {
  connected: string[];
  failed: { peerId: string; reason: string }[];
}

/**
 * This participant's connections to the others: routes incoming signals to the right
 * {@link PeerConnection} (creating it when a peer connects first), connects to groups in parallel and
 * reports the peers that could not be reached instead of waiting for them. Signals to one peer are sent
 * one at a time, so that they reach it in order.
 */
export class PeerNetwork extends Emitter<PeerNetworkEvents> {
  readonly localId: string;
  readonly #options: PeerNetworkOptions;
  readonly #connections = new Map<string, PeerConnection>();
  readonly #signalQueues = new Map<string, Promise<void>>();
  /** Totals of connections already replaced or closed, so that {@link stats} never goes down. */
  readonly #past: PeerStats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  #closed = false;

  constructor(options: PeerNetworkOptions) {
    super();
    this.#options = options;
    this.localId = options.localId;
  }

  /** Bytes and messages exchanged with every peer so far (framing included). */
  get stats(): PeerStats {
    const total = { ...this.#past };
    for (const c of this.#connections.values()) addStats(total, c.stats);
    return total;
  }

  /** Ids of the peers whose data channel is open. */
  get connectedPeers(): string[] {
    return [...this.#connections.values()].filter((c) => c.state === 'connected').map((c) => c.remoteId);
  }

  /** The connection to `peerId`, if any. */
  connection(peerId: string): PeerConnection | undefined {
    return this.#connections.get(peerId);
  }

  isConnected(peerId: string): boolean {
    return this.#connections.get(peerId)?.state === 'connected';
  }

  /** Connects to every peer in `peerIds` at once; settles when each is connected or has failed. */
  async connect(peerIds: readonly string[]): Promise<ConnectResult> {
    const ids = [...new Set(peerIds)].filter((id) => id !== this.localId);
    const results = await Promise.allSettled(ids.map((id) => this.#connectionFor(id).connect()));
    const out: ConnectResult = { connected: [], failed: [] };
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') out.connected.push(ids[i]);
      else out.failed.push({ peerId: ids[i], reason: (r.reason as Error).message });
    });
    return out;
  }

  /** Feeds a signal that the signalling server relayed from `from`. */
  handleSignal(from: string, signal: PeerSignal): void {
    if (this.#closed || from === this.localId) return;
    const existing = this.#connections.get(from);
    if (!existing && this.#options.accept && !this.#options.accept(from)) return;
    this.#connectionFor(from).handleSignal(signal);
  }

  /** Sends a message to a connected peer; rejects if it is not connected or closes meanwhile. */
  send(peerId: string, message: Uint8Array): Promise<void> {
    const connection = this.#connections.get(peerId);
    if (!connection) return Promise.reject(new Error(`no connection to peer ${peerId}`));
    return connection.send(message);
  }

  /** Closes the connection to one peer. */
  disconnect(peerId: string, reason = 'closed locally'): void {
    this.#connections.get(peerId)?.close(reason);
  }

  /** Closes every connection; the network can no longer be used. */
  close(): void {
    this.#closed = true;
    for (const c of this.#connections.values()) c.close('network closed');
  }

  #connectionFor(peerId: string): PeerConnection {
    const existing = this.#connections.get(peerId);
    if (existing && existing.state !== 'closed') return existing;
    if (existing) addStats(this.#past, existing.stats);
    const { accept: _accept, sendSignal: _send, ...options } = this.#options;
    const connection = new PeerConnection({
      ...options,
      remoteId: peerId,
      sendSignal: (signal) => this.#queueSignal(peerId, signal),
    });
    this.#connections.set(peerId, connection);
    connection.on('connect', () => this.emit('connect', peerId, connection.connectMs ?? 0));
    connection.on('close', (reason) => this.emit('disconnect', peerId, reason));
    connection.on('message', (message) => this.emit('message', peerId, message));
    connection.on('failed', (reason) => this.emit('failed', peerId, reason));
    connection.on('error', (error) => this.emit('error', peerId, error));
    return connection;
  }

  #queueSignal(to: string, signal: PeerSignal): Promise<void> {
    const previous = this.#signalQueues.get(to) ?? Promise.resolve();
    const next = previous.then(() => this.#options.sendSignal(to, signal));
    this.#signalQueues.set(
      to,
      next.catch(() => undefined),
    );
    return next;
  }
}

function addStats(into: PeerStats, from: PeerStats): void {
  into.bytesSent += from.bytesSent;
  into.bytesReceived += from.bytesReceived;
  into.messagesSent += from.messagesSent;
  into.messagesReceived += from.messagesReceived;
}
