import type { FederationApi, JoinResult, RoundState, TransferStats } from '@disco/core';
import { deserializeError, type FederationMethod, type SerializedError, type WorkerResponse } from './protocol.js';

/**
 * Worker side: a {@link FederationApi} whose calls run on the main thread, where the element's
 * `DiscoApi` lives (a real server's client, or the in-memory fake). Weights cross as transferred bytes.
 */
export class FederationProxy implements FederationApi {
  readonly stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  private calls = 0;
  private watches = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly watchers = new Map<number, { listener: (state: RoundState) => void; onError?: (error: Error) => void }>();

  constructor(private readonly post: (message: WorkerResponse, transfer?: Transferable[]) => void) {}

  join(taskId: string, options?: { token?: string }): Promise<JoinResult> {
    return this.call('join', [taskId, options]);
  }

  heartbeat(token: string): Promise<RoundState> {
    return this.call('heartbeat', [token]);
  }

  async downloadWeights(taskId: string, version?: number): Promise<Uint8Array> {
    const bytes = await this.call<Uint8Array>('downloadWeights', [taskId, version]);
    this.stats.bytesReceived += bytes.byteLength;
    return bytes;
  }

  async submitUpdate(token: string, round: number, update: Uint8Array): Promise<{ accepted: true; round: number }> {
    this.stats.bytesSent += update.byteLength;
    return this.call('submitUpdate', [token, round, update]);
  }

  leave(token: string): Promise<void> {
    return this.call('leave', [token]);
  }

  watchRounds(taskId: string, token: string, listener: (state: RoundState) => void, onError?: (error: Error) => void): () => void {
    const watchId = ++this.watches;
    this.watchers.set(watchId, { listener, onError });
    this.post({ type: 'federation-watch', watchId, taskId, token });
    return () => {
      this.watchers.delete(watchId);
      this.post({ type: 'federation-unwatch', watchId });
    };
  }

  close(): void {
    for (const watchId of this.watchers.keys()) this.post({ type: 'federation-unwatch', watchId });
    this.watchers.clear();
    this.post({ type: 'federation-close' });
  }

  /** Routes the main thread's answers; returns whether the message was one. */
  handle(message: { type: string }): boolean {
    const m = message as
      | { type: 'federation-result'; id: number; ok: boolean; value?: unknown; error?: SerializedError }
      | { type: 'federation-state'; watchId: number; state: RoundState }
      | { type: 'federation-watch-error'; watchId: number; error: SerializedError };
    if (m.type === 'federation-result') {
      const pending = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) pending?.resolve(m.value);
      else pending?.reject(deserializeError(m.error!));
      return true;
    }
    if (m.type === 'federation-state') {
      this.watchers.get(m.watchId)?.listener(m.state);
      return true;
    }
    if (m.type === 'federation-watch-error') {
      this.watchers.get(m.watchId)?.onError?.(deserializeError(m.error));
      return true;
    }
    return false;
  }

  private call<T>(method: FederationMethod, args: unknown[]): Promise<T> {
    const id = ++this.calls;
    // Bytes are copied, not transferred: the client may send the same update again after a retry.
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ type: 'federation-call', id, method, args });
    });
  }
}
