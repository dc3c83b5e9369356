import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ResourceController } from '../controllers/resource-controller.js';
import type { ModelStore, StoredModelInfo } from './model-store.js';

/**
 * The models of a {@link ModelStore}, kept current: read when the host connects or its store changes,
 * and again after any change to the library (in this tab or another).
 */
export class LibraryController implements ReactiveController {
  private unsubscribe: (() => void) | undefined;
  private subscribed: ModelStore | undefined;
  private readonly resource: ResourceController<readonly [ModelStore], StoredModelInfo[]>;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly store: () => ModelStore,
    onError?: (error: unknown) => void,
  ) {
    this.resource = new ResourceController(host, { args: () => [store()] as const, load: ([s]) => s.list(), onError });
    host.addController(this);
  }

  get models(): StoredModelInfo[] {
    return this.resource.value ?? [];
  }

  get status() {
    return this.resource.status;
  }

  get error(): unknown {
    return this.resource.error;
  }

  /** Resolves once the current read has settled. */
  get complete(): Promise<void> {
    return this.resource.complete;
  }

  reload(): Promise<void> {
    return this.resource.reload();
  }

  hostConnected(): void {
    this.follow();
  }

  hostUpdate(): void {
    if (this.subscribed !== this.store()) this.follow();
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribed = undefined;
  }

  private follow(): void {
    this.unsubscribe?.();
    this.subscribed = this.store();
    this.unsubscribe = this.subscribed.subscribe(() => void this.resource.reload());
  }
}
