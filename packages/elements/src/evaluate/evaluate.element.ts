import { msg, str } from '@lit/localize';
import { Task as LitTask, TaskStatus, initialState } from '@lit/task';
import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { EvaluationReport, PredictionRow, Task } from '@disco/core';
import type { DiscoApi } from '../api/disco-api.js';
import { isImageFile, pickedFiles } from '../base/data-files.js';
import { DiscoElement } from '../base/disco-element.js';
import { renderDropzone } from '../base/dropzone.js';
import { decimal, errorCode, errorMessage, percent, renderError } from '../base/states.js';
import { getConfig } from '../config.js';
import { getLocale } from '../localization.js';
import { ApiController } from '../controllers/api-controller.js';
import { currentValue, settled } from '../controllers/task-values.js';
import { LibraryController } from '../library/library-controller.js';
import { defaultModelStore, type ModelStore, type StoredModelInfo } from '../library/model-store.js';
import type { BackendSettings, DataFile, ModelSource } from '../worker/protocol.js';
import { EvaluationController } from './evaluation-controller.js';
import { evaluateStyles } from './evaluate.styles.js';

/** Misclassified examples shown at most. */
const MAX_MISCLASSIFIED = 24;
/** Predictions listed at most (the CSV has them all). */
const MAX_PREDICTION_ROWS = 50;

/**
 * @summary Test a model on labelled data (accuracy, confusion matrix, per-class figures, misclassified
 * examples) or predict unlabelled data and download the predictions as CSV.
 *
 * The model comes from the model library of this browser (e.g. the one just trained, `model-id`) or is
 * uploaded as a TF.js model (`model.json` + `weights.bin`). The task comes from the `task` property, the
 * library model's record, or the server (`task-id`). Everything runs in a Web Worker; nothing leaves the
 * browser.
 *
 * @slot header - Above the model choice, e.g. a heading.
 *
 * @event disco-evaluate-end - A test ended. Detail: `{ accuracy, samples }`.
 * @event disco-error - The task, the model, the data or the test failed. Detail: `{ code, message }`.
 *
 * @csspart model - The model choice.
 * @csspart model-select - The library `<select>`.
 * @csspart upload - The TF.js model upload input.
 * @csspart dropzone - The data drop area.
 * @csspart files - The data files.
 * @csspart test-button - "Test the model".
 * @csspart predict-button - "Predict".
 * @csspart accuracy - The accuracy figure.
 * @csspart confusion - The confusion matrix.
 * @csspart per-class - The per-class table.
 * @csspart misclassified - The misclassified examples.
 * @csspart predictions - The predictions table.
 * @csspart download-button - "Download predictions (CSV)".
 * @csspart error - The error box.
 *
 * @cssproperty --disco-color-success - Correct predictions on the confusion matrix's diagonal.
 */
export class DiscoEvaluate extends DiscoElement {
  static override styles = evaluateStyles;

  /** Base URL of the Disco server (only needed to fetch a task that the model's record lacks). */
  @property({ reflect: true }) server?: string;

  /** An injected API (e.g. `FakeDiscoApi`); wins over `server`. */
  @property({ attribute: false }) api?: DiscoApi;

  /** The task the model is for; else the library model's task. */
  @property({ attribute: 'task-id', reflect: true }) taskId = '';

  /** A task object (wins over `task-id` and the library record). */
  @property({ attribute: false }) task?: Task;

  /** The id of a model of the library to evaluate, e.g. `disco-train-end`'s `modelId`. */
  @property({ attribute: 'model-id', reflect: true }) modelId = '';

  /** The model library. */
  @property({ attribute: false }) store: ModelStore = defaultModelStore;

  /** Folder (URL ending in `/`) serving TF.js's `.wasm` files; wins over `configure({ wasmPaths })`. */
  @property({ attribute: 'wasm-path' }) wasmPath = '';

  /** Forces the light or dark palette; follows the user's preference when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  @state() private source: 'library' | 'upload' = 'library';
  @state() private upload: { modelJson?: File; weights: File[] } = { weights: [] };
  @state() private data: DataFile[] = [];

  private readonly apiController = new ApiController(this);
  private readonly evaluation = new EvaluationController(this);
  private readonly library = new LibraryController(this, () => this.store);
  private thumbnails = new Map<string, string>();

  private readonly modelInfo = new LitTask(this, {
    args: () => [this.store, this.modelId, this.source] as const,
    task: async ([store, id, source]) => {
      if (id === '' || source !== 'library') return initialState;
      const info = await store.info(id);
      if (!info) throw new Error(msg(str`The model "${id}" is not in the model library of this browser.`, { id: 'evaluate.not-in-library' }));
      return info;
    },
    onError: (error) => this.emit('disco-error', { code: 'model', message: errorMessage(error) }),
  });

  private readonly taskResource = new LitTask(this, {
    args: () => [this.task, currentValue(this.modelInfo)?.task, this.apiController.api, this.taskId || currentValue(this.modelInfo)?.taskId || ''] as const,
    task: ([task, stored, api, id]) => task ?? stored ?? (api !== undefined && id !== '' ? api.getTask(id) : initialState),
    onError: (error) => this.emit('disco-error', { code: errorCode(error), message: errorMessage(error) }),
  });

  /** The data files to test or predict on. */
  get files(): File[] {
    return this.data.map((d) => d.file);
  }
  set files(files: File[] | FileList | null | undefined) {
    this.useData(pickedFiles(files ?? []));
  }

  /** The report of the last test. */
  get report(): EvaluationReport | undefined {
    return this.evaluation.report;
  }

  /** The predictions of the last prediction run. */
  get predictions(): PredictionRow[] | undefined {
    return this.evaluation.predictions?.rows;
  }

  /** Resolves once the model's record and the task are loaded. */
  get loaded(): Promise<void> {
    return settled(this.modelInfo)
      .then(() => this.updateComplete)
      .then(() => settled(this.taskResource))
      .then(() => this.updateComplete)
      .then(() => undefined);
  }

  /** Tests the model on the (labelled) files; resolves with the report. */
  async test(): Promise<EvaluationReport> {
    const { task, model } = await this.inputs();
    const report = await this.evaluation.test(this.data, task, model, this.backend());
    this.emit('disco-evaluate-end', { accuracy: report.accuracy, samples: report.count });
    return report;
  }

  /** Predicts the class of every example of the files (no labels needed); resolves with the predictions. */
  async predict(): Promise<PredictionRow[]> {
    const { task, model } = await this.inputs();
    return (await this.evaluation.predict(this.data, task, model, this.backend())).rows;
  }

  /** Offers the last predictions as `predictions.csv`. */
  downloadPredictions(): void {
    const csv = this.evaluation.predictions?.csv;
    if (!csv) return;
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: 'predictions.csv' });
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.revokeThumbnails();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('modelId') && this.modelId) this.source = 'library';
  }

  private backend(): BackendSettings {
    const config = getConfig();
    return { wasmPaths: this.wasmPath || config.wasmPaths, backend: config.backend };
  }

  private async inputs(): Promise<{ task: Task; model: ModelSource }> {
    await this.loaded;
    const task = currentValue(this.taskResource);
    if (!task) throw new Error(msg('Choose a model (or set the task) first.', { id: 'evaluate.no-model' }));
    if (this.data.length === 0) throw new Error(msg('Add data files first.', { id: 'evaluate.no-data' }));
    if (this.source === 'upload') {
      if (!this.upload.modelJson || this.upload.weights.length === 0) throw new Error(msg('Choose the model.json and weights.bin of a TF.js model.', { id: 'evaluate.no-upload' }));
      return { task, model: { kind: 'upload', modelJson: this.upload.modelJson, weights: this.upload.weights } };
    }
    const stored = this.modelId ? await this.store.get(this.modelId) : undefined;
    if (!stored) throw new Error(msg('Choose a model of the library first.', { id: 'evaluate.choose-library' }));
    return { task, model: { kind: 'files', files: stored.files } };
  }

  private useData(files: DataFile[]): void {
    this.revokeThumbnails();
    this.data = files;
    this.evaluation.reset();
  }

  private revokeThumbnails(): void {
    for (const url of this.thumbnails.values()) URL.revokeObjectURL(url);
    this.thumbnails.clear();
  }

  private thumbnail(source: string | undefined): string | undefined {
    if (!source) return undefined;
    const cached = this.thumbnails.get(source);
    if (cached) return cached;
    const file = this.data.find((d) => d.path === source && isImageFile(d));
    if (!file) return undefined;
    const url = URL.createObjectURL(file.file);
    this.thumbnails.set(source, url);
    return url;
  }

  private handleSource(event: Event): void {
    this.source = (event.target as HTMLInputElement).value as 'library' | 'upload';
    this.evaluation.reset();
  }

  private handleSelectModel(event: Event): void {
    this.modelId = (event.target as HTMLSelectElement).value;
    this.evaluation.reset();
  }

  private handleUpload(event: Event): void {
    const files = Array.from((event.target as HTMLInputElement).files ?? []);
    this.upload = { modelJson: files.find((f) => f.name.endsWith('.json')), weights: files.filter((f) => !f.name.endsWith('.json')) };
    this.evaluation.reset();
  }

  private handleTest(): void {
    this.test().catch((error: unknown) => this.fail(error));
  }

  private handlePredict(): void {
    this.predict().catch((error: unknown) => this.fail(error));
  }

  private handleDownload(): void {
    this.downloadPredictions();
  }

  private fail(error: unknown): void {
    this.emit('disco-error', { code: errorCode(error, 'model'), message: errorMessage(error) });
    this.requestUpdate();
  }

  protected override render() {
    const task = currentValue(this.taskResource);
    return html`
      <slot name="header"></slot>
      ${this.renderModel()}
      ${this.taskResource.status === TaskStatus.ERROR ? renderError(this.taskResource.error, () => void this.taskResource.run()) : nothing}
      ${this.modelInfo.status === TaskStatus.ERROR ? renderError(this.modelInfo.error) : nothing} ${this.renderData(task)} ${this.renderOutcome(task)}
    `;
  }

  private renderModel() {
    const models: StoredModelInfo[] = this.taskId ? this.library.models.filter((m) => m.taskId === this.taskId) : this.library.models;
    const date = (ms: number) => new Date(ms).toLocaleString(getLocale(), { dateStyle: 'medium', timeStyle: 'short' });
    return html`<section aria-labelledby="model-heading">
      <h3 id="model-heading">${msg('Model', { id: 'evaluate.model' })}</h3>
      <fieldset part="model">
        <legend>${msg('Which model', { id: 'evaluate.which' })}</legend>
        <label><input type="radio" name="source" value="library" .checked=${this.source === 'library'} @change=${this.handleSource} /> ${msg('From the model library', { id: 'evaluate.from-library' })}</label>
        <label><input type="radio" name="source" value="upload" .checked=${this.source === 'upload'} @change=${this.handleSource} /> ${msg('A TF.js model (model.json + weights.bin)', { id: 'evaluate.from-upload' })}</label>
      </fieldset>
      ${this.source === 'library'
        ? html`<label for="model-select">${msg('Model', { id: 'evaluate.model' })}</label>
            <select id="model-select" part="model-select" .value=${this.modelId} @change=${this.handleSelectModel}>
              <option value="" ?selected=${!this.modelId}>${models.length ? msg('Choose a model…', { id: 'evaluate.choose' }) : msg('The library is empty', { id: 'evaluate.library-empty' })}</option>
              ${models.map((m) => html`<option value=${m.id} ?selected=${m.id === this.modelId}>${m.taskTitle} – ${date(m.createdAt)} – ${percent(m.metrics.accuracy)}</option>`)}
            </select>`
        : html`<label for="upload">${msg('model.json and weights.bin', { id: 'evaluate.upload' })}</label>
            <input id="upload" part="upload" type="file" multiple accept=".json,.bin,application/json,application/octet-stream" @change=${this.handleUpload} />
            ${this.upload.modelJson ? html`<p class="muted">${[this.upload.modelJson, ...this.upload.weights].map((f) => f.name).join(', ')}</p>` : nothing}`}
    </section>`;
  }

  private renderData(task: Task | undefined) {
    const busy = this.evaluation.busy;
    const images = task?.dataType === 'image';
    const ready = !!task && this.data.length > 0 && !busy && (this.source === 'library' ? !!this.modelId : !!this.upload.modelJson);
    return html`<section aria-labelledby="data-heading">
      <h3 id="data-heading">${msg('Data', { id: 'evaluate.data' })}</h3>
      ${renderDropzone({
        id: 'eval-data',
        hint: images ? msg('images or a folder of images', { id: 'train.hint-images' }) : msg('CSV files', { id: 'train.hint-csv' }),
        folders: images,
        disabled: busy,
        onFiles: (files) => this.useData(files),
      })}
      ${this.data.length
        ? html`<ul class="files" part="files" aria-label=${msg('Data files', { id: 'train.files' })}>
            ${this.data.slice(0, 20).map((d) => html`<li>${d.path}</li>`)} ${this.data.length > 20 ? html`<li>${msg(str`… and ${this.data.length - 20} more`, { id: 'evaluate.more' })}</li>` : nothing}
          </ul>`
        : nothing}
      <div class="row" style="margin-top: var(--_space)">
        <button type="button" part="test-button" ?disabled=${!ready} @click=${this.handleTest}>${msg('Test the model', { id: 'evaluate.test' })}</button>
        <button type="button" class="secondary" part="predict-button" ?disabled=${!ready} @click=${this.handlePredict}>${msg('Predict', { id: 'evaluate.predict' })}</button>
        <span role="status" class="muted">${this.evaluation.phase === 'testing'
            ? msg('Testing…', { id: 'evaluate.testing' })
            : this.evaluation.phase === 'predicting'
              ? msg('Predicting…', { id: 'evaluate.predicting' })
              : ''}</span>
      </div>
      <p class="muted">${msg('Testing needs labelled data (with the answer column or label folders); predicting does not.', { id: 'evaluate.needs-labels' })}</p>
      ${this.evaluation.phase === 'failed' && this.evaluation.error ? html`<div role="alert" part="error" class="error-box">${this.evaluation.error.message}</div>` : nothing}
    </section>`;
  }

  private renderOutcome(task: Task | undefined) {
    const { report, predictions } = this.evaluation;
    if (report && this.evaluation.phase === 'tested') return this.renderReport(report, task);
    if (predictions && this.evaluation.phase === 'predicted') return this.renderPredictions(predictions.rows, predictions.classes);
    return nothing;
  }

  private renderReport(report: EvaluationReport, task: Task | undefined) {
    const labels = report.perClass.map((c) => c.label);
    const images = task?.dataType === 'image';
    return html`<section aria-labelledby="report-heading">
      <h3 id="report-heading">${msg('Results', { id: 'evaluate.results' })}</h3>
      <p>
        ${msg(str`Accuracy on ${report.count} examples:`, { id: 'evaluate.accuracy-on' })}
        <span class="accuracy" part="accuracy">${percent(report.accuracy)}</span>
        <span class="muted">${msg(str`(loss ${decimal(report.loss)})`, { id: 'evaluate.loss' })}</span>
      </p>
      <div class="table-wrap" tabindex="0" role="region" aria-labelledby="confusion-caption">
        <table class="confusion" part="confusion">
          <caption id="confusion-caption">${msg('Confusion matrix: rows are the true labels, columns the predicted ones', { id: 'evaluate.confusion' })}</caption>
          <thead>
            <tr>
              <th scope="col"><span class="visually-hidden">${msg('True label', { id: 'evaluate.true-label' })}</span></th>
              ${labels.map((l) => html`<th scope="col">${msg(str`predicted ${l}`, { id: 'evaluate.predicted-label' })}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${report.confusion.map(
              (row, i) => html`<tr>
                <th scope="row">${labels[i]}</th>
                ${row.map((n, j) => html`<td class=${i === j ? 'diagonal' : ''}>${n}</td>`)}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="table-wrap" tabindex="0" role="region" aria-labelledby="per-class-caption">
        <table part="per-class">
          <caption id="per-class-caption">${msg('Per class', { id: 'evaluate.per-class' })}</caption>
          <thead>
            <tr>
              <th scope="col">${msg('Label', { id: 'evaluate.label' })}</th>
              <th scope="col" class="number">${msg('Precision', { id: 'evaluate.precision' })}</th>
              <th scope="col" class="number">${msg('Recall', { id: 'evaluate.recall' })}</th>
              <th scope="col" class="number">F1</th>
              <th scope="col" class="number">${msg('Examples', { id: 'evaluate.examples' })}</th>
            </tr>
          </thead>
          <tbody>
            ${report.perClass.map(
              (c) => html`<tr>
                <th scope="row">${c.label}</th>
                <td class="number">${percent(c.precision)}</td>
                <td class="number">${percent(c.recall)}</td>
                <td class="number">${decimal(c.f1, 2)}</td>
                <td class="number">${c.support}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <h4>${msg(str`Misclassified examples (${report.misclassified.length})`, { id: 'evaluate.misclassified' })}</h4>
      ${report.misclassified.length === 0
        ? html`<p class="muted">${msg('None: every example was classified correctly.', { id: 'evaluate.none-wrong' })}</p>`
        : html`<ul class="misclassified" part="misclassified" aria-label=${msg('Misclassified examples, most confident first', { id: 'evaluate.misclassified-label' })}>
            ${report.misclassified.slice(0, MAX_MISCLASSIFIED).map((m) => {
              const url = images ? this.thumbnail(m.source) : undefined;
              return html`<li>
                ${url ? html`<img src=${url} alt="${m.source ?? `example ${m.index + 1}`}, labelled ${m.expected}" />` : nothing}
                <div>${msg(html`true <strong>${m.expected}</strong>, predicted <strong>${m.predicted}</strong> (${percent(m.confidence, 0)})`, { id: 'evaluate.wrong' })}</div>
                <div class="source">${m.source ?? `example ${m.index + 1}`}</div>
              </li>`;
            })}
          </ul>`}
    </section>`;
  }

  private renderPredictions(rows: PredictionRow[], classes: string[]) {
    return html`<section aria-labelledby="predictions-heading">
      <h3 id="predictions-heading">${msg('Predictions', { id: 'evaluate.predictions' })}</h3>
      <div class="row">
        <button type="button" part="download-button" @click=${this.handleDownload}>${msg('Download predictions (CSV)', { id: 'evaluate.download' })}</button>
        <span class="muted">${msg(str`${rows.length} examples; classes ${classes.join(', ')}`, { id: 'evaluate.predicted-count' })}</span>
      </div>
      <div class="table-wrap" tabindex="0" role="region" aria-labelledby="predictions-caption">
        <table part="predictions">
          <caption id="predictions-caption">${rows.length > MAX_PREDICTION_ROWS
            ? msg(str`The first ${MAX_PREDICTION_ROWS} predictions`, { id: 'evaluate.first-predictions' })
            : msg('Predictions', { id: 'evaluate.predictions' })}</caption>
          <thead>
            <tr>
              <th scope="col">${msg('Example', { id: 'task.example' })}</th>
              <th scope="col">${msg('Predicted', { id: 'evaluate.predicted' })}</th>
              <th scope="col" class="number">${msg('Confidence', { id: 'evaluate.confidence' })}</th>
            </tr>
          </thead>
          <tbody>
            ${rows.slice(0, MAX_PREDICTION_ROWS).map(
              (r) => html`<tr>
                <th scope="row">${r.source}</th>
                <td>${r.label}</td>
                <td class="number">${percent(r.confidence)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }
}
