/**
 * A fixed-window counter per key (client address): at most `max` events per `windowMs`. Process-local by
 * nature (a limit per instance); with several instances behind a balancer, the balancer should limit too.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one event for `key`; returns the milliseconds to wait when over the limit, else 0. */
  hit(key: string): number {
    const now = this.clock();
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count > this.max ? window.resetAt - now : 0;
  }
}
