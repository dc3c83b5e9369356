import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Where a {@link ResourceController} stands. */
export type ResourceStatus = 'idle' | 'pending' | 'ready' | 'error';

/** Options of a {@link ResourceController}. */
export interface ResourceOptions<A extends readonly unknown[], T> {
  /** The inputs; the resource reloads whenever one of them changes (compared with `Object.is`). */
  args: () => A;
  /** Loads the value. `signal` aborts when the inputs change again or the host disconnects. */
  load: (args: A, signal: AbortSignal) => Promise<T>;
  /** Whether the inputs are complete enough to load (e.g. an API and a task id). Default: always. */
  ready?: (args: A) => boolean;
  /** Called after a load fails (not when it is aborted), e.g. to emit `disco-error`. */
  onError?: (error: unknown) => void;
  /** Called after a load succeeds (not when it is aborted), e.g. to emit a `disco-*-load` event. */
  onLoad?: (value: T) => void;
}

/**
 * Async data that follows an element's properties: reloads when its inputs change, ignores stale
 * answers, and requests a render at each change of status.
 *
 * ```ts
 * private tasks = new ResourceController(this, {
 *   args: () => [this.apiController.api] as const,
 *   ready: ([api]) => !!api,
 *   load: ([api]) => api!.listTasks(),
 * });
 * ```
 */
export class ResourceController<A extends readonly unknown[], T> implements ReactiveController {
  status: ResourceStatus = 'idle';
  value: T | undefined;
  error: unknown;
  private lastArgs: A | undefined;
  private abort: AbortController | undefined;
  private settled: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<{ resolve: (value: T) => void; reject: (error: unknown) => void }>();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: ResourceOptions<A, T>,
  ) {
    host.addController(this);
  }

  hostUpdate(): void {
    const args = this.options.args();
    if (this.lastArgs && args.length === this.lastArgs.length && args.every((a, i) => Object.is(a, this.lastArgs![i]))) return;
    this.lastArgs = args;
    void this.run(args);
  }

  hostDisconnected(): void {
    this.abort?.abort();
    this.lastArgs = undefined;
  }

  /** Loads again with the current inputs (e.g. a "retry" button or after a change on the server). */
  reload(): Promise<void> {
    this.lastArgs = this.options.args();
    return this.run(this.lastArgs);
  }

  /** Resolves once the current load has settled (tests, embedders). */
  get complete(): Promise<void> {
    return this.settled;
  }

  /**
   * The value once loaded: at once when it is, else at the end of the current load or, while the inputs
   * are incomplete, of the next one. Rejects with the error of a failed load (at once when the last
   * one failed), or with `signal`'s reason when it aborts first.
   */
  loadedValue(signal?: AbortSignal): Promise<T> {
    if (this.status === 'ready') return Promise.resolve(this.value as T);
    if (this.status === 'error') return Promise.reject(this.error);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (value: T) => (done(), resolve(value)),
        reject: (error: unknown) => (done(), reject(error)),
      };
      const abort = () => waiter.reject(signal!.reason);
      const done = () => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', abort);
      };
      if (signal?.aborted) return abort();
      this.waiters.add(waiter);
      signal?.addEventListener('abort', abort);
    });
  }

  private run(args: A): Promise<void> {
    this.abort?.abort();
    if (this.options.ready && !this.options.ready(args)) {
      this.status = 'idle';
      this.value = undefined;
      this.error = undefined;
      return (this.settled = Promise.resolve());
    }
    const abort = (this.abort = new AbortController());
    this.status = 'pending';
    this.error = undefined;
    this.host.requestUpdate();
    this.settled = this.options.load(args, abort.signal).then(
      (value) => {
        if (abort.signal.aborted) return;
        this.value = value;
        this.status = 'ready';
        this.host.requestUpdate();
        this.options.onLoad?.(value);
        for (const waiter of [...this.waiters]) waiter.resolve(value);
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        this.error = error;
        this.status = 'error';
        this.host.requestUpdate();
        this.options.onError?.(error);
        for (const waiter of [...this.waiters]) waiter.reject(error);
      },
    );
    return this.settled;
  }
}
