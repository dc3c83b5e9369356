import { Task } from '@lit/task';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { settled } from '../controllers/task-values.js';
import type { ModelStore, StoredModelInfo } from './model-store.js';

/**
 * The models of a {@link ModelStore}, kept current: read when the host connects or its store changes,
 * and again after any change to the library (in this tab or another).
 */
export class LibraryController implements ReactiveController {
  private unsubscribe: (() => void) | undefined;
  private subscribed: ModelStore | undefined;
  private disconnected = false;
  private readonly resource: Task<readonly [ModelStore], StoredModelInfo[]>;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly store: () => ModelStore,
    onError?: (error: unknown) => void,
  ) {
    this.resource = new Task(host, { args: () => [store()] as const, task: ([s]) => s.list(), onError });
    host.addController(this);
  }

  get models(): StoredModelInfo[] {
    return this.resource.value ?? [];
  }

  /** A `TaskStatus` of `@lit/task`. */
  get status() {
    return this.resource.status;
  }

  get error(): unknown {
    return this.resource.error;
  }

  /** Resolves once the current read has settled. */
  get complete(): Promise<void> {
    return settled(this.resource);
  }

  reload(): Promise<void> {
    return this.resource.run();
  }

  hostConnected(): void {
    // Changes made while the host was out of the page were not followed: read the library again.
    if (this.disconnected) void this.resource.run();
    this.disconnected = false;
    this.follow();
  }

  hostUpdate(): void {
    if (this.subscribed !== this.store()) this.follow();
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribed = undefined;
    this.disconnected = true;
  }

  private follow(): void {
    this.unsubscribe?.();
    this.subscribed = this.store();
    this.unsubscribe = this.subscribed.subscribe(() => void this.resource.run());
  }
}
