/**
 * Plumbing shared by the clients: abortable sleeps, and the exponential back-off used to reconnect. (The
 * event channel that turns pushes into an async stream is in `util/event-channel.ts`.)
 */

/** The error a stopped session throws internally; never surfaces to the consumer. */
export class SessionStopped extends Error {
  constructor() {
    super('the session was stopped');
    this.name = 'AbortError';
  }
}

/** Throws {@link SessionStopped} when `signal` is aborted. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SessionStopped();
}

/** Resolves after `ms`, or rejects with {@link SessionStopped} as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new SessionStopped());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SessionStopped());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential back-off settings for reconnecting. */
export interface BackoffOptions {
  /** First delay (default 250 ms). */
  initialDelayMs?: number;
  /** Longest delay between two attempts (default 10 s). */
  maxDelayMs?: number;
  /** Growth factor per attempt (default 2). */
  factor?: number;
  /** Give up after this long without success (default 10 minutes). */
  giveUpAfterMs?: number;
}

/** The delay before attempt `attempt` (0-based): `initial × factor^attempt`, capped, with ±20 % jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialDelayMs = 250, maxDelayMs = 10_000, factor = 2 } = options;
  const base = Math.min(maxDelayMs, initialDelayMs * factor ** attempt);
  // Jitter keeps many clients that lost the same server from reconnecting in lock-step.
  return Math.round(base * (0.8 + 0.4 * random()));
}
