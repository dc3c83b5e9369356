import { msg, str } from '@lit/localize';
import { Task as LitTask, TaskStatus, initialState } from '@lit/task';
import { html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { isNoisy, tabularFileColumns, type RoundInfo, type Task } from '@disco/core';
import type { DiscoApi } from '../api/disco-api.js';
import { DiscoElement } from '../base/disco-element.js';
import { dataTypeLabels, schemeExplanations, schemeLabels } from '../base/labels.js';
import { errorCode, errorMessage, renderError, renderLoading } from '../base/states.js';
import { ApiController } from '../controllers/api-controller.js';
import { settled } from '../controllers/task-values.js';
import { renderMarkdown } from '../markdown.js';
import { describePrivacy, describeSpent } from './privacy-statement.js';
import { taskStyles } from './task.styles.js';

/**
 * @summary A task explained for a non-specialist: what is learned, which data is expected (with an
 * example), how the training is organised, and what happens to the participant's data.
 *
 * The privacy statement is generated from what the task enforces (secure aggregation, clipping, noise,
 * sampling, a privacy budget): one sentence per setting, then what is not protected. For a task with
 * differential privacy, the ε spent so far is read from the server's rounds.
 *
 * The task's markdown is rendered with marked and sanitized with DOMPurify.
 *
 * @slot actions - Beside the title, e.g. a "Join" button.
 * @slot footer - After the privacy statement.
 *
 * @event disco-task-load - The task was loaded (from the server, or set as `task`); it is then the `task` property too. Detail: `{ task }`.
 * @event disco-error - The task could not be loaded. Detail: `{ code, message }`.
 *
 * @csspart header - The title row.
 * @csspart title - The task's title (`<h2>`).
 * @csspart description - The rendered description.
 * @csspart data - The "The data you need" section (kind, columns or image size, example).
 * @csspart sample - The example data.
 * @csspart scheme - The "How training works" section.
 * @csspart mode - Federated tasks: synchronous rounds, or asynchronous training with its buffer and staleness rules.
 * @csspart privacy - The privacy statement.
 * @csspart privacy-spent - Tasks with differential privacy: the ε spent so far.
 * @csspart loading - The loading message.
 * @csspart error - The error box.
 *
 * @cssproperty --disco-color-surface - Background of the example data.
 */
export class DiscoTask extends DiscoElement {
  static override styles = taskStyles;

  /** Base URL of the Disco server. */
  @property({ reflect: true }) server?: string;

  /** An injected API (e.g. `FakeDiscoApi`); wins over `server`. */
  @property({ attribute: false }) api?: DiscoApi;

  /** The id of the task to show. */
  @property({ attribute: 'task-id', reflect: true }) taskId = '';

  /**
   * The task shown. Read it once loaded (see `disco-task-load`): the task from the server, or the one set
   * here. Setting a task object shows it without asking a server (it wins over `task-id`).
   */
  get task(): Task | undefined {
    return this.taskInput ?? (this.resource.status === TaskStatus.COMPLETE ? this.resource.value : undefined);
  }
  set task(task: Task | undefined) {
    this.taskInput = task;
  }

  /** Forces the light or dark palette; follows the user's preference when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  @state() private taskInput?: Task;

  private readonly apiController = new ApiController(this);

  private readonly resource = new LitTask(this, {
    args: () => [this.taskInput, this.apiController.api, this.taskId] as const,
    task: ([task, api, id]) => task ?? (api !== undefined && id !== '' ? api.getTask(id) : initialState),
    onComplete: (task) => this.emit('disco-task-load', { task }),
    onError: (error) => this.emit('disco-error', { code: errorCode(error), message: errorMessage(error) }),
  });

  /** Tasks with differential privacy: the latest closed round that says what was spent (ε at δ), when the server has one. */
  private readonly spent = new LitTask(this, {
    args: () => [this.task, this.apiController.api] as const,
    task: async ([task, api]): Promise<RoundInfo | undefined> => {
      if (!task || !api || !isNoisy(task)) return undefined;
      const rounds = await api.listRounds(task.id);
      return rounds.find((r) => r.phase === 'closed' && r.epsilon !== null && r.delta !== null);
    },
  });

  /** Resolves once the current load (the task, then the privacy spent) has settled and rendered. */
  get loaded(): Promise<void> {
    return settled(this.resource)
      .then(() => this.updateComplete)
      .then(() => settled(this.spent))
      .then(() => this.updateComplete)
      .then(() => undefined);
  }

  protected override render() {
    if (this.resource.status === TaskStatus.INITIAL) return html`<p class="muted">${msg(html`Set <code>task-id</code> and <code>server</code> to show a task.`, { id: 'task.unset' })}</p>`;
    if (this.resource.status === TaskStatus.ERROR) return renderError(this.resource.error, () => void this.resource.run());
    const task = this.resource.value;
    if (this.resource.status === TaskStatus.PENDING || !task) return renderLoading(msg('Loading the task…', { id: 'task.loading' }));
    return html`
      <article aria-labelledby="title">
        <header class="row" part="header">
          <h2 id="title" part="title">${task.title}</h2>
          <slot name="actions"></slot>
        </header>
        <section aria-labelledby="learned">
          <h3 id="learned">${msg('What is learned', { id: 'task.learned' })}</h3>
          <div class="description" part="description">${unsafeHTML(renderMarkdown(task.description))}</div>
        </section>
        ${this.renderData(task)} ${this.renderScheme(task)} ${this.renderPrivacy(task)}
        <slot name="footer"></slot>
      </article>
    `;
  }

  private renderData(task: Task) {
    return html`<section aria-labelledby="data" part="data">
      <h3 id="data">${msg('The data you need', { id: 'task.data' })}</h3>
      <dl>
        <dt>${msg('Kind', { id: 'task.kind' })}</dt>
        <dd>${dataTypeLabels[task.dataType]}</dd>
        ${task.tabular
          ? html`<dt>${msg('Columns used', { id: 'task.columns' })}</dt>
              <dd>${tabularFileColumns(task).map((c, i) => html`${i ? ', ' : ''}<code>${c}</code>`)}</dd>
              <dt>${msg('Predicted column', { id: 'task.predicted' })}</dt>
              <dd><code>${task.tabular.outputColumn}</code> ${msg(str`(values: ${task.tabular.labels.join(', ')})`, { id: 'task.values' })}</dd>`
          : nothing}
        ${task.image
          ? html`<dt>${msg('Image size', { id: 'task.image-size' })}</dt>
              <dd>
                ${task.image.channels === 1
                  ? msg(str`${task.image.width} × ${task.image.height} pixels, grayscale`, { id: 'task.image-gray' })
                  : msg(str`${task.image.width} × ${task.image.height} pixels, colour`, { id: 'task.image-colour' })}
              </dd>
              <dt>${msg('Labels', { id: 'task.labels' })}</dt>
              <dd><ul class="labels" aria-label=${msg('Labels', { id: 'task.labels' })}>${task.image.labels.map((l) => html`<li>${l}</li>`)}</ul></dd>`
          : nothing}
        ${task.text
          ? html`<dt>${msg('Text', { id: 'task.text' })}</dt>
              <dd>${msg(str`Plain text files (.txt, UTF-8), read ${task.text.contextLength} tokens at a time (GPT-2 byte-pair encoding); the model learns to predict each next token.`, { id: 'task.text-files' })}</dd>`
          : nothing}
      </dl>
      ${task.dataFormat ? html`<div class="format">${unsafeHTML(renderMarkdown(task.dataFormat))}</div>` : nothing}
      ${task.sample
        ? html`<figure part="sample">
            <figcaption id="sample-caption">${msg('Example', { id: 'task.example' })}</figcaption>
            <pre tabindex="0" aria-labelledby="sample-caption"><code>${task.sample}</code></pre>
          </figure>`
        : nothing}
    </section>`;
  }

  private renderScheme(task: Task) {
    const { rounds, epochsPerRound } = task.training;
    return html`<section aria-labelledby="scheme" part="scheme">
      <h3 id="scheme">${msg(str`How training works: ${schemeLabels[task.scheme]}`, { id: 'task.how' })}</h3>
      <p>${schemeExplanations[task.scheme]}</p>
      <p class="muted">
        ${task.scheme === 'local'
          ? msg(str`${epochsPerRound * rounds} passes over your data.`, { id: 'task.passes' })
          : msg(str`${rounds} rounds of ${epochsPerRound} ${epochsPerRound === 1 ? msg('pass', { id: 'task.pass' }) : msg('passes', { id: 'task.passes-word' })} over your data; a round needs at least ${task.minParticipants} ${task.minParticipants === 1 ? msg('participant', { id: 'task.participant-word' }) : msg('participants', { id: 'task.participants-word' })}.`, { id: 'task.rounds' })}
      </p>
      ${task.scheme === 'federated' ? this.renderMode(task) : nothing}
    </section>`;
  }

  /** Federated tasks: synchronous rounds, or asynchronous versions with what staleness costs. */
  private renderMode(task: Task) {
    if (task.mode !== 'async')
      return html`<p part="mode">
        ${msg(str`Synchronous rounds: each round waits for its participants, or closes after ${task.roundDeadlineSeconds} seconds with those who sent their update.`, { id: 'task.mode-sync' })}
      </p>`;
    const { bufferSize, maxStaleness, stalenessWeighting, stalenessExponent } = task.async;
    return html`<p part="mode">
      ${msg(str`Asynchronous training: nobody waits for the others. The server takes each update when it arrives and publishes a new version of the model every ${bufferSize} updates.`, { id: 'task.mode-async' })}
      ${stalenessWeighting === 'polynomial'
        ? msg(str`An update trained from a version s versions old counts (1 + s)^−${stalenessExponent} as much as a fresh one; one more than ${maxStaleness} versions old is refused.`, { id: 'task.staleness-polynomial' })
        : msg(str`Every update counts the same, however old its version; one more than ${maxStaleness} versions old is refused.`, { id: 'task.staleness-constant' })}
    </p>`;
  }

  private renderPrivacy(task: Task) {
    const privacy = describePrivacy(task);
    const round = this.spent.status === TaskStatus.COMPLETE ? this.spent.value : undefined;
    return html`<section aria-labelledby="privacy" part="privacy">
      <h3 id="privacy">${msg('Your privacy', { id: 'task.privacy' })}</h3>
      <ul class="privacy">
        <li>${privacy.leavesDevice}</li>
        ${privacy.enforced.map((s) => html`<li>${s.text}</li>`)}
      </ul>
      ${round?.epsilon != null && round.delta != null
        ? html`<p part="privacy-spent">${describeSpent({ epsilon: round.epsilon, delta: round.delta, budget: task.privacy.budget?.epsilon }, round.modelVersion ?? round.number)}</p>`
        : nothing}
      ${privacy.notProtected.length
        ? html`<h4 id="not-protected">${msg('What this does not protect', { id: 'task.not-protected' })}</h4>
            <ul class="privacy" aria-labelledby="not-protected">
              ${privacy.notProtected.map((s) => html`<li>${s}</li>`)}
            </ul>`
        : nothing}
    </section>`;
  }
}
