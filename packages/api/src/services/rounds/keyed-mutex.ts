/**
 * Runs asynchronous bodies one at a time per key, in the order they were queued (a FIFO per key); bodies of
 * different keys run concurrently. Not reentrant: a body must not queue on its own key (it would wait for
 * itself), so locked code calls the unlocked variants of its helpers.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, body: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(body, body) : body();
    // The tail never rejects: one body's failure does not stop the queue.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves once every body queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }
}
