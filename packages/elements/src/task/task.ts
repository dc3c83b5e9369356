import { DiscoTask } from './task.element.js';

export { DiscoTask };

DiscoTask.define('disco-task');

declare global {
  interface HTMLElementTagNameMap {
    'disco-task': DiscoTask;
  }
}
