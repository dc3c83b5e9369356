import { msg, str } from '@lit/localize';
import { Task as LitTask, TaskStatus, initialState } from '@lit/task';
import { html, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { dataTypes, type DataType } from '@disco/core';
import type { DiscoApi, TaskSummary } from '../api/disco-api.js';
import { DiscoElement } from '../base/disco-element.js';
import { dataTypeLabels, schemeLabels } from '../base/labels.js';
import { errorCode, errorMessage, renderError, renderLoading } from '../base/states.js';
import { ApiController } from '../controllers/api-controller.js';
import { currentValue, settled } from '../controllers/task-values.js';
import { taskListStyles } from './task-list.styles.js';

/**
 * @summary The tasks of a Disco server, to choose one: title, data type, scheme, participants now and
 * rounds so far, filterable by data type.
 *
 * Keyboard: Tab reaches the list; ↑/↓, Home and End move between tasks; Enter or Space chooses one.
 *
 * @slot empty - Shown when the server has no task (of the chosen data type).
 * @slot header - Above the filter, e.g. a heading.
 *
 * @event disco-task-select - A task was chosen. Detail: `{ taskId }`.
 * @event disco-error - The tasks could not be loaded. Detail: `{ code, message }`.
 *
 * @csspart filter - The data-type `<select>`.
 * @csspart list - The list of tasks (`role="listbox"`).
 * @csspart task - One task (`role="option"`); also `task selected` for the chosen one.
 * @csspart task-title - The title of a task.
 * @csspart loading - The loading message.
 * @csspart error - The error box.
 * @csspart empty - The empty-list message.
 *
 * @cssproperty --disco-color-primary - The selection marker.
 */
export class DiscoTaskList extends DiscoElement {
  static override styles = taskListStyles;

  /** Base URL of the Disco server. */
  @property({ reflect: true }) server?: string;

  /** An injected API (e.g. `FakeDiscoApi`); wins over `server`. */
  @property({ attribute: false }) api?: DiscoApi;

  /** Shows only the tasks of this data type (`tabular`, `image`, `text`); empty for all. */
  @property({ attribute: 'data-type', reflect: true }) dataType: DataType | '' = '';

  /** The id of the chosen task. */
  @property({ reflect: true }) selected = '';

  /** Reloads the list every this many seconds (participants and rounds change); 0 to never. */
  @property({ type: Number, attribute: 'poll-interval' }) pollInterval = 0;

  /** Forces the light or dark palette; follows the user's preference when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  @state() private activeId = '';

  private readonly apiController = new ApiController(this);
  private pollTimer: ReturnType<typeof setInterval> | undefined;

  private readonly tasks = new LitTask(this, {
    args: () => [this.apiController.api] as const,
    task: ([api]) => api?.listTasks() ?? initialState,
    onError: (error) => this.emit('disco-error', { code: errorCode(error), message: errorMessage(error) }),
  });

  /** Loads the tasks again. Resolves once they are shown. */
  async reload(): Promise<void> {
    await this.tasks.run();
    await this.updateComplete;
  }

  /** Resolves once the current load has settled and rendered (tests, embedders). */
  get loaded(): Promise<void> {
    return settled(this.tasks).then(() => this.updateComplete).then(() => undefined);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('pollInterval') || (this.isConnected && !this.pollTimer && this.pollInterval > 0)) {
      clearInterval(this.pollTimer);
      this.pollTimer = this.pollInterval > 0 ? setInterval(() => void this.tasks.run(), this.pollInterval * 1000) : undefined;
    }
  }

  private get visibleTasks(): TaskSummary[] {
    const all = currentValue(this.tasks) ?? [];
    return this.dataType ? all.filter((t) => t.task.dataType === this.dataType) : all;
  }

  private select(taskId: string): void {
    this.selected = taskId;
    this.activeId = taskId;
    this.emit('disco-task-select', { taskId });
  }

  private focusTask(taskId: string): void {
    this.activeId = taskId;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`[data-id="${CSS.escape(taskId)}"]`)?.focus());
  }

  private handleFilter(event: Event): void {
    this.dataType = (event.target as HTMLSelectElement).value as DataType | '';
  }

  private handleClick(event: Event): void {
    const option = (event.target as HTMLElement).closest<HTMLElement>('[role="option"]');
    if (option?.dataset.id) this.select(option.dataset.id);
  }

  private handleKeydown(event: KeyboardEvent): void {
    const tasks = this.visibleTasks;
    if (tasks.length === 0) return;
    const option = (event.target as HTMLElement).closest<HTMLElement>('[role="option"]');
    const index = Math.max(0, tasks.findIndex((t) => t.task.id === option?.dataset.id));
    const move = (to: number) => {
      event.preventDefault();
      this.focusTask(tasks[Math.min(tasks.length - 1, Math.max(0, to))].task.id);
    };
    switch (event.key) {
      case 'ArrowDown':
        return move(index + 1);
      case 'ArrowUp':
        return move(index - 1);
      case 'Home':
        return move(0);
      case 'End':
        return move(tasks.length - 1);
      case 'Enter':
      case ' ':
        event.preventDefault();
        if (option?.dataset.id) this.select(option.dataset.id);
    }
  }

  protected override render() {
    return html`
      <slot name="header"></slot>
      <div class="toolbar">
        <label for="filter">${msg('Data type', { id: 'task-list.filter' })}</label>
        <select id="filter" part="filter" .value=${this.dataType} @change=${this.handleFilter}>
          <option value="" ?selected=${this.dataType === ''}>${msg('All', { id: 'task-list.all' })}</option>
          ${dataTypes.map((t) => html`<option value=${t} ?selected=${this.dataType === t}>${dataTypeLabels[t]}</option>`)}
        </select>
      </div>
      ${this.renderBody()}
    `;
  }

  private renderBody() {
    if (!this.apiController.api) return html`<p class="muted" part="empty">${msg(html`Set the <code>server</code> attribute to list its tasks.`, { id: 'task-list.no-server' })}</p>`;
    if (this.tasks.status === TaskStatus.ERROR) return renderError(this.tasks.error, () => void this.tasks.run());
    if (this.tasks.status !== TaskStatus.COMPLETE) return renderLoading(msg('Loading tasks…', { id: 'task-list.loading' }));
    const tasks = this.visibleTasks;
    if (tasks.length === 0)
      return html`<div part="empty"><slot name="empty"><p class="muted">${this.dataType
            ? msg(str`No ${dataTypeLabels[this.dataType].toLowerCase()} task on this server.`, { id: 'task-list.none-of-type' })
            : msg('No task on this server yet.', { id: 'task-list.none' })}</p></slot></div>`;
    const active = tasks.some((t) => t.task.id === this.activeId) ? this.activeId : tasks.some((t) => t.task.id === this.selected) ? this.selected : tasks[0].task.id;
    return html`
      <ul role="listbox" aria-label=${msg('Tasks', { id: 'task-list.label' })} part="list" @click=${this.handleClick} @keydown=${this.handleKeydown}>
        ${tasks.map(({ task, participants, roundsClosed }) => {
          const selected = task.id === this.selected;
          return html`<li
            role="option"
            part=${selected ? 'task selected' : 'task'}
            data-id=${task.id}
            aria-selected=${selected ? 'true' : 'false'}
            tabindex=${task.id === active ? 0 : -1}
          >
            <span class="title" part="task-title">${task.title}</span>
            <span class="badge">${schemeLabels[task.scheme]}</span>
            <span class="facts">
              <span>${msg(str`Data: ${dataTypeLabels[task.dataType]}`, { id: 'task-list.data' })}</span>
              <span>${participants === 1 ? msg('1 participant now', { id: 'task-list.participant' }) : msg(str`${participants} participants now`, { id: 'task-list.participants' })}</span>
              <span>${roundsClosed === 1 ? msg('1 round so far', { id: 'task-list.round' }) : msg(str`${roundsClosed} rounds so far`, { id: 'task-list.rounds' })}</span>
            </span>
          </li>`;
        })}
      </ul>
    `;
  }
}
