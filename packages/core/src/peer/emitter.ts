/**
 * A minimal typed event emitter: browsers and Node alike, no `node:events` in core's main entry.
 * `on` returns the function that removes the listener.
 */
type AnyListener = (...args: never[]) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Set<AnyListener>>();

  /** Calls `listener` on every `event`; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as unknown as AnyListener);
    return () => this.off(event, listener);
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): void {
    this.#listeners.get(event)?.delete(listener as unknown as AnyListener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    // Copy: a listener may unsubscribe itself while we iterate.
    for (const listener of [...(this.#listeners.get(event) ?? [])]) (listener as unknown as (...a: Events[K]) => void)(...args);
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
