import { DiscoTaskList } from './task-list.element.js';

export { DiscoTaskList };

DiscoTaskList.define('disco-task-list');

declare global {
  interface HTMLElementTagNameMap {
    'disco-task-list': DiscoTaskList;
  }
}
