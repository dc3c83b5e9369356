import type { PeerJoinResult, PeerRoundInfo, PeerServerEvent, PeerSignal, SignallingApi, TransferStats } from '@disco/core';
import { deserializeError, type PeersMethod, type SerializedError, type WorkerResponse } from './protocol.js';

/**
 * Worker side: the decentralized client's signalling port ({@link SignallingApi}) whose calls run on
 * the main thread, where the element's `DiscoApi` lives. Only metadata and WebRTC signals cross here;
 * models travel over the peers' data channels (see `relayed-wrtc.ts`). `stats` mirrors the main thread's
 * count of the signalling traffic.
 */
export class PeerSignallingProxy implements SignallingApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  private calls = 0;
  private watches = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly watchers = new Map<number, { listener: (event: PeerServerEvent) => void; onError?: (error: Error) => void }>();

  constructor(private readonly post: (message: WorkerResponse) => void) {}

  join(taskId: string, options?: { token?: string }): Promise<PeerJoinResult> {
    return this.call('join', [taskId, options]);
  }

  async heartbeat(token: string): Promise<void> {
    await this.call('heartbeat', [token]);
  }

  downloadInitialModel(taskId: string): Promise<Uint8Array> {
    return this.call('downloadInitialModel', [taskId]);
  }

  ready(token: string, round: number, metrics?: Record<string, number>): Promise<PeerRoundInfo> {
    return this.call('ready', metrics ? [token, round, metrics] : [token, round]);
  }

  async signal(token: string, to: string, signal: PeerSignal): Promise<void> {
    await this.call('signal', [token, to, signal]);
  }

  watch(token: string, listener: (event: PeerServerEvent) => void, onError?: (error: Error) => void): () => void {
    const watchId = ++this.watches;
    this.watchers.set(watchId, { listener, onError });
    this.post({ type: 'peers-watch', watchId, token });
    return () => {
      if (!this.watchers.delete(watchId)) return;
      this.post({ type: 'peers-unwatch', watchId });
    };
  }

  async leave(token: string): Promise<void> {
    await this.call('leave', [token]);
  }

  close(): void {
    for (const watchId of this.watchers.keys()) this.post({ type: 'peers-unwatch', watchId });
    this.watchers.clear();
    this.post({ type: 'peers-close' });
  }

  /** Routes the main thread's answers; returns whether the message was one. */
  handle(message: { type: string }): boolean {
    const m = message as
      | { type: 'peers-result'; id: number; ok: boolean; value?: unknown; error?: SerializedError; stats: TransferStats }
      | { type: 'peers-event'; watchId: number; event: PeerServerEvent }
      | { type: 'peers-watch-error'; watchId: number; error: SerializedError };
    switch (m.type) {
      case 'peers-result': {
        Object.assign(this.stats, m.stats);
        const pending = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) pending?.resolve(m.value);
        else pending?.reject(deserializeError(m.error!));
        return true;
      }
      case 'peers-event':
        this.watchers.get(m.watchId)?.listener(m.event);
        return true;
      case 'peers-watch-error':
        this.watchers.get(m.watchId)?.onError?.(deserializeError(m.error));
        return true;
    }
    return false;
  }

  private call<T>(method: PeersMethod, args: unknown[]): Promise<T> {
    const id = ++this.calls;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ type: 'peers-call', id, method, args });
    });
  }
}
