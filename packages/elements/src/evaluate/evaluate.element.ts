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
import type { BackendSettings, DataFile, GenerationSettings, ModelSource } from '../worker/protocol.js';
import { EvaluationController } from './evaluation-controller.js';
import { GenerationController, type Generation } from './generation-controller.js';
import { evaluateStyles } from './evaluate.styles.js';

/** Misclassified examples shown at most. */
const MAX_MISCLASSIFIED = 24;
/** Predictions listed at most (the CSV has them all). */
const MAX_PREDICTION_ROWS = 50;
/** The prompt box's defaults. */
const DEFAULT_GENERATION: GenerationSettings = { maxTokens: 50, temperature: 0.8 };
/** Tokens one generation may ask for at most. */
const MAX_GENERATED_TOKENS = 1024;

/**
 * @summary Test a model on labelled data (accuracy, confusion matrix, per-class figures, misclassified
 * examples) or predict unlabelled data and download the predictions as CSV.
 *
 * The model comes from the model library of this browser (e.g. the one just trained, `model-id`) or is
 * uploaded as a TF.js model (`model.json` + `weights.bin`). The task comes from the `task` property, the
 * library model's record, or the server (`task-id`). Everything runs in a Web Worker; nothing leaves the
 * browser.
 *
 * Language models (text tasks): a prompt box continues a prompt (the number of tokens, the temperature, 0 being
 * greedy, top-k and a seed), streaming the text into the page token by token as the worker generates it
 * (whole characters only; Stop ends it after the current token), and the test reports the perplexity on the
 * user's `.txt` files.
 *
 * @slot header - Above the model choice, e.g. a heading.
 *
 * @event disco-evaluate-end - A test ended. Detail: `{ accuracy, samples, perplexity?, tokens? }` (language models: the next-token accuracy, the perplexity and the tokens predicted).
 * @event disco-generate - A generation ended (finished or stopped). Detail: `{ prompt, text, tokens, stopped }` (`text`: the continuation).
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
 * @csspart generate - Language models: the prompt box.
 * @csspart prompt - The prompt's text area.
 * @csspart generate-button - "Generate".
 * @csspart stop-button - "Stop" (generation).
 * @csspart generation - The prompt and the text generated.
 * @csspart perplexity - Language models: the perplexity figure.
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
  /** The prompt box's fields, as typed. */
  @state() private promptText = '';
  @state() private generationFields: Record<'maxTokens' | 'temperature' | 'topK' | 'seed', string> = {
    maxTokens: String(DEFAULT_GENERATION.maxTokens),
    temperature: String(DEFAULT_GENERATION.temperature),
    topK: '',
    seed: '',
  };
  @state() private generationError = '';

  private readonly apiController = new ApiController(this);
  private readonly evaluation = new EvaluationController(this);
  private readonly generation = new GenerationController(this);
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
    const { perplexity, tokens } = report;
    this.emit('disco-evaluate-end', { accuracy: report.accuracy, samples: report.count, ...(perplexity !== undefined && { perplexity, tokens }) });
    return report;
  }

  /**
   * Language models: continues `prompt` (default: the prompt box's) with the settings of the prompt box, or
   * those given; the text streams into the page. Resolves once generation ended, with the continuation.
   */
  async generate(prompt: string = this.promptText, settings?: Partial<GenerationSettings>): Promise<Generation> {
    this.promptText = prompt; // the box shows the prompt being continued
    const { task, model } = await this.inputs(false);
    if (task.dataType !== 'text') throw new Error(msg(str`Generation needs a language model; "${task.title}" is not a text task.`, { id: 'evaluate.not-language-model' }));
    const result = await this.generation.generate(task, model, prompt, { ...this.generationSettings(), ...settings }, this.backend());
    this.emit('disco-generate', { prompt: result.prompt, text: result.text, tokens: result.tokens, stopped: result.stopped });
    return result;
  }

  /** Stops a running generation after its current token (the text so far stays). */
  stopGeneration(): void {
    this.generation.stop();
  }

  /** The last generation: the prompt and the continuation, while it streams too. */
  get generated(): { prompt: string; text: string; tokens: number } {
    const { prompt, text, tokens } = this.generation;
    return { prompt, text, tokens };
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

  /** The prompt box's settings, checked: a message saying what to change otherwise. */
  private generationSettings(): GenerationSettings {
    const f = this.generationFields;
    const number = (text: string) => (text.trim() === '' ? undefined : Number(text));
    const maxTokens = number(f.maxTokens);
    const temperature = number(f.temperature);
    const topK = number(f.topK);
    const seed = number(f.seed);
    if (maxTokens === undefined || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_GENERATED_TOKENS)
      throw new Error(msg(str`Tokens to generate: a whole number from 1 to ${MAX_GENERATED_TOKENS}.`, { id: 'evaluate.tokens-invalid' }));
    if (temperature === undefined || !(temperature >= 0 && temperature <= 2)) throw new Error(msg('Temperature: from 0 (always the likeliest token) to 2.', { id: 'evaluate.temperature-invalid' }));
    if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new Error(msg('Top-k: a whole number from 1, or empty for every token.', { id: 'evaluate.top-k-invalid' }));
    if (seed !== undefined && !Number.isInteger(seed)) throw new Error(msg('Seed: a whole number, or empty for a random one.', { id: 'evaluate.seed-invalid' }));
    return { maxTokens, temperature, ...(topK !== undefined && { topK }), ...(seed !== undefined && { seed }) };
  }

  private async inputs(needData = true): Promise<{ task: Task; model: ModelSource }> {
    await this.loaded;
    const task = currentValue(this.taskResource);
    if (!task) throw new Error(msg('Choose a model (or set the task) first.', { id: 'evaluate.no-model' }));
    if (needData && this.data.length === 0) throw new Error(msg('Add data files first.', { id: 'evaluate.no-data' }));
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

  private handlePrompt(event: Event): void {
    this.promptText = (event.target as HTMLTextAreaElement).value;
  }

  private handleGenerationField(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.generationFields = { ...this.generationFields, [input.name]: input.value };
    this.generationError = '';
  }

  private handleGenerate(event: Event): void {
    event.preventDefault();
    this.generationError = '';
    this.generate().catch((error: unknown) => {
      this.generationError = errorMessage(error);
      this.fail(error);
    });
  }

  private handleStopGeneration(): void {
    this.stopGeneration();
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
      ${this.modelInfo.status === TaskStatus.ERROR ? renderError(this.modelInfo.error) : nothing} ${task?.dataType === 'text' ? this.renderGenerate() : nothing}
      ${this.renderData(task)} ${this.renderOutcome(task)}
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
              ${models.map(
                (m) =>
                  html`<option value=${m.id} ?selected=${m.id === this.modelId}>
                    ${m.taskTitle} – ${date(m.createdAt)} – ${m.metrics.perplexity !== undefined
                      ? msg(str`perplexity ${decimal(m.metrics.perplexity, 1)}`, { id: 'evaluate.perplexity-short' })
                      : percent(m.metrics.accuracy)}
                  </option>`,
              )}
            </select>`
        : html`<label for="upload">${msg('model.json and weights.bin', { id: 'evaluate.upload' })}</label>
            <input id="upload" part="upload" type="file" multiple accept=".json,.bin,application/json,application/octet-stream" @change=${this.handleUpload} />
            ${this.upload.modelJson ? html`<p class="muted">${[this.upload.modelJson, ...this.upload.weights].map((f) => f.name).join(', ')}</p>` : nothing}`}
    </section>`;
  }

  private renderData(task: Task | undefined) {
    const busy = this.evaluation.busy;
    const images = task?.dataType === 'image';
    const text = task?.dataType === 'text';
    const ready = !!task && this.data.length > 0 && !busy && (this.source === 'library' ? !!this.modelId : !!this.upload.modelJson);
    return html`<section aria-labelledby="data-heading">
      <h3 id="data-heading">${msg('Data', { id: 'evaluate.data' })}</h3>
      ${renderDropzone({
        id: 'eval-data',
        hint: images
          ? msg('images or a folder of images', { id: 'train.hint-images' })
          : text
            ? msg('text files (.txt)', { id: 'train.hint-text' })
            : msg('CSV files', { id: 'train.hint-csv' }),
        folders: images,
        ...(text && { accept: '.txt,text/plain' }),
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
        ${text ? nothing : html`<button type="button" class="secondary" part="predict-button" ?disabled=${!ready} @click=${this.handlePredict}>${msg('Predict', { id: 'evaluate.predict' })}</button>`}
        <span role="status" class="muted">${this.evaluation.phase === 'testing'
            ? msg('Testing…', { id: 'evaluate.testing' })
            : this.evaluation.phase === 'predicting'
              ? msg('Predicting…', { id: 'evaluate.predicting' })
              : ''}</span>
      </div>
      <p class="muted">
        ${text
          ? msg('The test computes the model’s perplexity on your .txt files: how well it predicts each next token.', { id: 'evaluate.text-test' })
          : msg('Testing needs labelled data (with the answer column or label folders); predicting does not.', { id: 'evaluate.needs-labels' })}
      </p>
      ${this.evaluation.phase === 'failed' && this.evaluation.error ? html`<div role="alert" part="error" class="error-box">${this.evaluation.error.message}</div>` : nothing}
    </section>`;
  }

  private renderOutcome(task: Task | undefined) {
    const { report, predictions } = this.evaluation;
    if (report && this.evaluation.phase === 'tested') return this.renderReport(report, task);
    if (predictions && this.evaluation.phase === 'predicted') return this.renderPredictions(predictions.rows, predictions.classes);
    return nothing;
  }

  /** Language models: the prompt box, and the prompt with its continuation as it streams. */
  private renderGenerate() {
    const g = this.generation;
    const f = this.generationFields;
    const hasModel = this.source === 'library' ? !!this.modelId : !!this.upload.modelJson;
    const field = (name: keyof typeof f, label: string, attrs: { min?: number; max?: number; step?: number | 'any'; placeholder?: string }) =>
      html`<div class="field">
        <label for="gen-${name}">${label}</label>
        <input id="gen-${name}" name=${name} type="number" inputmode="decimal" .value=${f[name]} min=${attrs.min ?? nothing} max=${attrs.max ?? nothing} step=${attrs.step ?? 'any'}
          placeholder=${attrs.placeholder ?? nothing} ?disabled=${g.running} @input=${this.handleGenerationField} />
      </div>`;
    const status =
      g.phase === 'generating'
        ? msg(str`Generating… ${g.tokens} of ${g.maxTokens} tokens`, { id: 'evaluate.generating' })
        : g.phase === 'stopping'
          ? msg('Stopping…', { id: 'train.status-stopping' })
          : g.phase === 'done' && g.result
            ? g.result.stopped
              ? msg(str`Stopped after ${g.result.tokens} tokens.`, { id: 'evaluate.generation-stopped' })
              : msg(str`${g.result.tokens} tokens generated.`, { id: 'evaluate.generated' })
            : '';
    return html`<section aria-labelledby="generate-heading" part="generate">
      <h3 id="generate-heading">${msg('Generate text', { id: 'evaluate.generate-heading' })}</h3>
      <form @submit=${this.handleGenerate}>
        <label for="prompt">${msg('Prompt', { id: 'evaluate.prompt' })}</label>
        <textarea id="prompt" part="prompt" rows="3" .value=${this.promptText} ?disabled=${g.running} @input=${this.handlePrompt}
          placeholder=${msg('The beginning of a text for the model to continue (empty: a new text).', { id: 'evaluate.prompt-placeholder' })}></textarea>
        <div class="generation-settings">
          ${field('maxTokens', msg('Tokens', { id: 'evaluate.tokens' }), { min: 1, max: MAX_GENERATED_TOKENS, step: 1 })}
          ${field('temperature', msg('Temperature (0: greedy)', { id: 'evaluate.temperature' }), { min: 0, max: 2, step: 0.1 })}
          ${field('topK', msg('Top-k (optional)', { id: 'evaluate.top-k' }), { min: 1, step: 1 })}
          ${field('seed', msg('Seed (optional)', { id: 'evaluate.seed' }), { step: 1 })}
        </div>
        <div class="row">
          <button type="submit" part="generate-button" ?disabled=${g.running || !hasModel}>${msg('Generate', { id: 'evaluate.generate' })}</button>
          <button type="button" class="secondary" part="stop-button" ?disabled=${g.phase !== 'generating'} @click=${this.handleStopGeneration}>${msg('Stop', { id: 'train.stop' })}</button>
          <span role="status" class="muted">${status}</span>
        </div>
      </form>
      ${this.generationError ? html`<div role="alert" part="error" class="error-box">${this.generationError}</div>` : nothing}
      ${g.phase !== 'idle' && g.phase !== 'failed'
        ? // No white space around the spans: the box keeps the text's own (pre-wrap).
          html`<div class="generation" part="generation" tabindex="0" role="region" aria-label=${msg('Generated text', { id: 'evaluate.generated-text' })} aria-busy=${g.running ? 'true' : 'false'}
            ><span class="prompt-echo">${g.prompt}</span><span class="continuation">${g.text}</span></div
          >`
        : nothing}
    </section>`;
  }

  private renderReport(report: EvaluationReport, task: Task | undefined) {
    if (report.perplexity !== undefined) return this.renderLanguageReport(report);
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

  /** Language models: the perplexity on the user's text, the loss and the next-token accuracy. */
  private renderLanguageReport(report: EvaluationReport) {
    return html`<section aria-labelledby="report-heading">
      <h3 id="report-heading">${msg('Results', { id: 'evaluate.results' })}</h3>
      <p>
        ${msg(str`Perplexity on ${report.tokens ?? 0} tokens of your text:`, { id: 'evaluate.perplexity-on' })}
        <span class="accuracy" part="perplexity">${decimal(report.perplexity, 1)}</span>
        <span class="muted">${msg(str`(loss ${decimal(report.loss)} per token; next token right ${percent(report.accuracy)} of the time)`, { id: 'evaluate.language-loss' })}</span>
      </p>
      <p class="muted">${msg('The lower, the better: the model hesitates on average between this many tokens.', { id: 'evaluate.perplexity-explain' })}</p>
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
