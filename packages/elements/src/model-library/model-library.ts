import { DiscoModelLibrary } from './model-library.element.js';

export { DiscoModelLibrary };

DiscoModelLibrary.define('disco-model-library');

declare global {
  interface HTMLElementTagNameMap {
    'disco-model-library': DiscoModelLibrary;
  }
}
