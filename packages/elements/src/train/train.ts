import { DiscoTrain } from './train.element.js';

export { DiscoTrain };

DiscoTrain.define('disco-train');

declare global {
  interface HTMLElementTagNameMap {
    'disco-train': DiscoTrain;
  }
}
