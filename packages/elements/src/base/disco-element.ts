import { updateWhenLocaleChanges } from '@lit/localize';
import { LitElement } from 'lit';
import type { DiscoEventDetails, DiscoEventName } from '../events.js';
import '../localization.js'; // follows the page's <html lang>

/**
 * The base of every Disco element: tolerant registration and typed `disco-*` events.
 *
 * ```ts
 * export class DiscoTaskList extends DiscoElement { … }
 * DiscoTaskList.define('disco-task-list');
 * ```
 */
export class DiscoElement extends LitElement {
  constructor() {
    super();
    updateWhenLocaleChanges(this); // renders again in the page's language when <html lang> changes
  }

  /**
   * Registers this class under `name`. Registering the same name twice (two bundles on one page, a
   * module evaluated twice) is tolerated: the first definition wins and a second, different class
   * only produces a console warning instead of the `NotSupportedError` of `customElements.define`.
   */
  static define(this: CustomElementConstructor, name: string, registry: CustomElementRegistry = customElements): void {
    const existing = registry.get(name);
    if (!existing) {
      registry.define(name, this);
    } else if (existing !== this) {
      console.warn(`<${name}> is already defined by another class; keeping the first definition.`);
    }
  }

  /**
   * Dispatches a typed `disco-*` event that bubbles and crosses shadow roots. Returns the event, so a
   * caller can check `defaultPrevented` when it passes `{ cancelable: true }`.
   */
  emit<K extends DiscoEventName>(name: K, detail: DiscoEventDetails[K], options: { cancelable?: boolean } = {}): CustomEvent<DiscoEventDetails[K]> {
    const event = new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: options.cancelable ?? false });
    this.dispatchEvent(event);
    return event;
  }
}
