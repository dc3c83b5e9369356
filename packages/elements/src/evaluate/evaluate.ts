import { DiscoEvaluate } from './evaluate.element.js';

export { DiscoEvaluate };

DiscoEvaluate.define('disco-evaluate');

declare global {
  interface HTMLElementTagNameMap {
    'disco-evaluate': DiscoEvaluate;
  }
}
