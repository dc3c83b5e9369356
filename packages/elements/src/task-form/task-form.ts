import { DiscoTaskForm } from './task-form.element.js';

export { DiscoTaskForm };

DiscoTaskForm.define('disco-task-form');

declare global {
  interface HTMLElementTagNameMap {
    'disco-task-form': DiscoTaskForm;
  }
}
