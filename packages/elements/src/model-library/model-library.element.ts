import { msg, str } from '@lit/localize';
import { TaskStatus } from '@lit/task';
import { html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { DiscoElement } from '../base/disco-element.js';
import { decimal, errorMessage, formatBytes, percent, renderError, renderLoading } from '../base/states.js';
import { LibraryController } from '../library/library-controller.js';
import { getLocale } from '../localization.js';
import { defaultModelStore, downloadModelFiles, type ModelStore, type StoredModelInfo } from '../library/model-store.js';
import { modelLibraryStyles } from './model-library.styles.js';

/**
 * @summary The models trained in this browser, kept in IndexedDB: task, date and metrics; download as a
 * standard TF.js model (`model.json` + `weights.bin`), delete, or open in `<disco-evaluate>`.
 *
 * The list follows changes made by other elements and other tabs (e.g. `<disco-train>` saving a model).
 *
 * @slot empty - Shown when the library is empty.
 * @slot header - Above the table, e.g. a heading.
 *
 * @event disco-model-open - "Open" was chosen. Detail: `{ modelId }`. When `for` names a `<disco-evaluate>`,
 * its `model-id` is set too (unless the event is cancelled).
 * @event disco-model-delete - A model was deleted. Detail: `{ modelId }`.
 * @event disco-error - The library could not be read or changed. Detail: `{ code: 'storage', message }`.
 *
 * @csspart table - The table of models.
 * @csspart model - One row.
 * @csspart open-button - The "Open" button of a row.
 * @csspart download-button - The "Download" button of a row.
 * @csspart delete-button - The "Delete" button of a row.
 * @csspart empty - The empty message.
 * @csspart status - The live region announcing downloads and deletions.
 * @csspart error - The error box.
 *
 * @cssproperty --disco-color-danger - The delete button.
 */
export class DiscoModelLibrary extends DiscoElement {
  static override styles = modelLibraryStyles;

  /** Shows only the models of this task. */
  @property({ attribute: 'task-id', reflect: true }) taskId = '';

  /** The id of a `<disco-evaluate>` element that "Open" sends the model to. */
  @property({ attribute: 'for' }) for = '';

  /** The library to show; the page-wide default library unless set. */
  @property({ attribute: false }) store: ModelStore = defaultModelStore;

  /** Forces the light or dark palette; follows the user's preference when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  @state() private announcement = '';

  private readonly models = new LibraryController(
    this,
    () => this.store,
    (error) => this.emit('disco-error', { code: 'storage', message: errorMessage(error) }),
  );

  /** Resolves once the list has been read and rendered. */
  get loaded(): Promise<void> {
    return this.models.complete.then(() => this.updateComplete).then(() => undefined);
  }

  /** Reads the library again. */
  async reload(): Promise<void> {
    await this.models.reload();
    await this.updateComplete;
  }

  private get visibleModels(): StoredModelInfo[] {
    const all = this.models.models;
    return this.taskId ? all.filter((m) => m.taskId === this.taskId) : all;
  }

  private handleOpen(model: StoredModelInfo): void {
    const event = this.emit('disco-model-open', { modelId: model.id }, { cancelable: true });
    if (event.defaultPrevented || !this.for) return;
    const target = (this.getRootNode() as Document | ShadowRoot).getElementById?.(this.for) ?? document.getElementById(this.for);
    if (target && 'modelId' in target) (target as HTMLElement & { modelId: string }).modelId = model.id;
  }

  private async handleDownload(model: StoredModelInfo): Promise<void> {
    try {
      const stored = await this.store.get(model.id);
      if (!stored) throw new Error(msg(str`The model "${model.id}" is no longer in the library.`, { id: 'library.gone' }));
      downloadModelFiles(stored.files);
      this.announcement = msg(str`Downloading model.json and weights.bin of ${model.taskTitle}.`, { id: 'library.downloading' });
    } catch (error) {
      this.fail(error);
    }
  }

  private async handleDelete(model: StoredModelInfo): Promise<void> {
    try {
      await this.store.delete(model.id);
      this.announcement = msg(str`Deleted the model of ${model.taskTitle} from ${formatDate(model.createdAt)}.`, { id: 'library.deleted' });
      this.emit('disco-model-delete', { modelId: model.id });
      await this.reload();
      this.renderRoot.querySelector<HTMLElement>('button')?.focus();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.announcement = errorMessage(error);
    this.emit('disco-error', { code: 'storage', message: errorMessage(error) });
  }

  protected override render() {
    return html`
      <slot name="header"></slot>
      ${this.renderBody()}
      <p role="status" part="status" class="muted">${this.announcement}</p>
    `;
  }

  private renderBody() {
    if (this.models.status === TaskStatus.ERROR) return renderError(this.models.error, () => void this.models.reload());
    if (this.models.status !== TaskStatus.COMPLETE) return renderLoading(msg('Reading the model library…', { id: 'library.loading' }));
    const models = this.visibleModels;
    if (models.length === 0)
      return html`<div part="empty"><slot name="empty"><p class="muted">${msg('No trained model yet. Models you train here are kept in this browser.', { id: 'library.empty' })}</p></slot></div>`;
    return html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="models-caption">
      <table part="table">
        <caption id="models-caption">${msg('Trained models in this browser', { id: 'library.caption' })}</caption>
        <thead>
          <tr>
            <th scope="col">${msg('Task', { id: 'library.task' })}</th>
            <th scope="col">${msg('Trained', { id: 'library.trained' })}</th>
            <th scope="col" class="number">${msg('Accuracy', { id: 'library.accuracy' })}</th>
            <th scope="col" class="number">${msg('Training accuracy', { id: 'library.train-accuracy' })}</th>
            <th scope="col" class="number">${msg('Loss', { id: 'library.loss' })}</th>
            <th scope="col" class="number">${msg('Size', { id: 'library.size' })}</th>
            <th scope="col"><span class="visually-hidden">${msg('Actions', { id: 'library.actions' })}</span></th>
          </tr>
        </thead>
        <tbody>
          ${models.map(
            (m) => html`<tr part="model" data-id=${m.id}>
              <th scope="row">${m.taskTitle}</th>
              <td><time datetime=${new Date(m.createdAt).toISOString()}>${formatDate(m.createdAt)}</time></td>
              <td class="number">${percent(m.metrics.accuracy)}</td>
              <td class="number">${percent(m.metrics.trainAccuracy)}</td>
              <td class="number">
                ${decimal(m.metrics.loss)}${m.metrics.perplexity !== undefined
                  ? html`<br /><span class="muted">${msg(str`perplexity ${decimal(m.metrics.perplexity, 1)}`, { id: 'evaluate.perplexity-short' })}</span>`
                  : nothing}
              </td>
              <td class="number">${formatBytes(m.sizeBytes)}</td>
              <td class="actions">
                <button type="button" part="open-button" aria-label=${msg(str`Open the model of ${m.taskTitle} from ${formatDate(m.createdAt)}`, { id: 'library.open-label' })}
                  @click=${() => this.handleOpen(m)}
                >
                  ${msg('Open', { id: 'library.open' })}
                </button>
                <button type="button" class="secondary" part="download-button" aria-label=${msg(str`Download the model of ${m.taskTitle} from ${formatDate(m.createdAt)}`, { id: 'library.download-label' })}
                  @click=${() => this.handleDownload(m)}
                >
                  ${msg('Download', { id: 'library.download' })}
                </button>
                <button type="button" class="danger" part="delete-button" aria-label=${msg(str`Delete the model of ${m.taskTitle} from ${formatDate(m.createdAt)}`, { id: 'library.delete-label' })}
                  @click=${() => this.handleDelete(m)}
                >
                  ${msg('Delete', { id: 'library.delete' })}
                </button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }
}

function formatDate(ms: number): string {
  return new Date(ms).toLocaleString(getLocale(), { dateStyle: 'medium', timeStyle: 'short' }); // in the elements' language
}

