import { DiscoApiError } from '@disco/core';

/**
 * Caps on open subscriptions (`federation.onRound`, `peers.onEvent`): per WebSocket connection and per
 * participant token, so that one client cannot open thousands on one socket, nor spread them over many.
 * Each instance counts the subscriptions it holds (a WebSocket lives on one): behind a balancer, a token may
 * hold the cap on each instance it reaches.
 */
export class SubscriptionLimits {
  private readonly perConnection = new WeakMap<object, number>();
  private readonly perToken = new Map<string, number>();

  constructor(
    readonly maxPerConnection: number,
    readonly maxPerToken: number,
  ) {}

  /**
   * Counts one subscription of `connection` (the WebSocket's upgrade request; none for in-process callers)
   * and `token` (when it has one); refuses with TOO_MANY_REQUESTS past a cap. The returned function gives
   * the slot back (once, however often it is called).
   */
  acquire(connection: object | undefined, token: string | null | undefined): () => void {
    const onConnection = connection ? (this.perConnection.get(connection) ?? 0) : 0;
    if (connection && onConnection >= this.maxPerConnection)
      throw new DiscoApiError(
        'TOO_MANY_REQUESTS',
        `this connection already has ${onConnection} subscriptions open, the most one connection may (limits.maxSubscriptionsPerConnection): stop one first`,
      );
    const onToken = token ? (this.perToken.get(token) ?? 0) : 0;
    if (token && onToken >= this.maxPerToken)
      throw new DiscoApiError(
        'TOO_MANY_REQUESTS',
        `this participant token already has ${onToken} subscriptions open, the most one token may (limits.maxSubscriptionsPerToken): stop one first`,
      );
    if (connection) this.perConnection.set(connection, onConnection + 1);
    if (token) this.perToken.set(token, onToken + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (connection) this.perConnection.set(connection, (this.perConnection.get(connection) ?? 1) - 1);
      if (token) {
        const left = (this.perToken.get(token) ?? 1) - 1;
        if (left > 0) this.perToken.set(token, left);
        else this.perToken.delete(token);
      }
    };
  }

  /** Subscriptions open with `token` (tests, diagnostics). */
  openFor(token: string): number {
    return this.perToken.get(token) ?? 0;
  }
}
