import { msg, str } from '@lit/localize';
import { Task as LitTask, TaskStatus, initialState } from '@lit/task';
import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { previewCsv, type Scheme, type Task } from '@disco/core';
import type { DiscoApi } from '../api/disco-api.js';
import { DiscoElement } from '../base/disco-element.js';
import { renderDropzone } from '../base/dropzone.js';
import { schemeLabels } from '../base/labels.js';
import { decimal, errorCode, errorMessage, formatBytes, percent, renderError, renderLoading } from '../base/states.js';
import { ChartController, type ChartData } from '../charts/chart-controller.js';
import { getConfig } from '../config.js';
import { ApiController } from '../controllers/api-controller.js';
import { currentValue, loadedValue, settled } from '../controllers/task-values.js';
import { defaultModelStore, type ModelStore } from '../library/model-store.js';
import type { DataFile } from '../worker/protocol.js';
import { TrainingWorker } from '../worker/worker-client.js';
import { assetSettings, resolveAssets, type AssetSettings } from '../worker/worker-start.js';
import { isCsvFile, isImageFile, isTextFile, pickedFiles } from '../base/data-files.js';
import { describeBudgetExhausted, describeSpent } from '../task/privacy-statement.js';
import { trainStyles } from './train.styles.js';
import { TrainingController, type TrainingPhase } from './training-controller.js';

/**
 * @summary Train a task's model on one's own files: connect data (picker, folder or drag-and-drop, checked
 * against the task before training), train locally or together with others, and follow the progress.
 *
 * Training runs in a Web Worker on TF.js's wasm backend, so the page stays responsive. The files never
 * leave the browser; in collaborative training only model updates are sent: to the server (federated), or
 * straight to the other participants' browsers over WebRTC (decentralized; the server only introduces
 * them), in which case the progress shows the peers connected and the bytes exchanged with them. When
 * training ends, the model is saved to the model library of this browser (IndexedDB).
 *
 * Privacy, as the session runs it: "Secure aggregation: on" for a task with secure aggregation, the ε the task
 * has spent after each round (tasks with differential privacy), and, when the task's privacy budget ends the
 * session, a plain sentence saying so.
 *
 * Text tasks (a language model): `.txt` files (any other file is refused, saying so), a preview of the text's
 * beginning, and perplexity charted (on a logarithmic scale) instead of accuracy. Asynchronous tasks: the model
 * version now, the next version's buffer and how many versions late this participant's last update arrived.
 *
 * Without UI: set `files` (File[] or FileList), then call `start()`; `stop()` stops after the current batch.
 *
 * @slot header - Above the data section, e.g. a heading.
 * @slot result - Below the final figures, e.g. a link to the model library.
 *
 * @event disco-task-load - The task was loaded (from the server, or set as `task`); it is then the `task` property too. Detail: `{ task }`.
 * @event disco-data-change - The files were checked. Detail: `{ files, valid }`.
 * @event disco-train-start - Training started. Detail: `{ taskId, scheme, files }`.
 * @event disco-epoch-end - A local epoch ended. Detail: `{ epoch, epochs, round?, metrics }`.
 * @event disco-round-end - A collaborative round closed. Detail: `{ round, rounds, metrics, participants, epsilon?, delta? }` (`epsilon`: the ε the task has spent, tasks with differential privacy).
 * @event disco-train-end - Training ended and the model was saved. Detail: `{ metrics, modelId, stopped, stats, secureAggregation?, epsilon?, delta?, budgetExhausted? }` (`stats`: the bytes exchanged, counted as the CLI counts them; `budgetExhausted`: the task's privacy budget ended the session).
 * @event disco-error - The task, the data or the training failed, or the training worker could not start (`code: 'worker'`, the message naming the cause: the page's Content-Security-Policy, the script's HTTP status). Detail: `{ code, message }`.
 *
 * @csspart dropzone - The drop area with the pickers.
 * @csspart files - The list of files with their checks.
 * @csspart file - One file; also `file invalid` for a bad one.
 * @csspart file-error - The problems of a file.
 * @csspart preview - The preview of the data (the first rows of a CSV, images, or the beginning of a text).
 * @csspart scheme - The local / collaborative choice.
 * @csspart start-button - The Start button.
 * @csspart stop-button - The Stop button.
 * @csspart progress - The progress bars.
 * @csspart participants - The number of participants now.
 * @csspart peers - Decentralized training: the peers connected and the bytes exchanged with them.
 * @csspart async - Asynchronous tasks: the model version now, the next version's buffer, and how many versions late this participant's last update arrived (its staleness).
 * @csspart privacy - Collaborative training: "Secure aggregation: on", and the ε spent so far (tasks with differential privacy).
 * @csspart budget - The sentence saying that the task's privacy budget stopped training.
 * @csspart charts - The charts.
 * @csspart result - The final figures.
 * @csspart log - The training log.
 * @csspart error - The error box.
 *
 * @cssproperty --disco-chart-height - Height of each chart (default 220px).
 * @cssproperty --disco-chart-1 - Colour of training curves.
 * @cssproperty --disco-chart-2 - Colour of validation curves.
 * @cssproperty --disco-chart-3 - Colour of aggregated (all participants) curves.
 */
export class DiscoTrain extends DiscoElement {
  static override styles = trainStyles;

  /** Base URL of the Disco server. */
  @property({ reflect: true }) server?: string;

  /** An injected API (e.g. `FakeDiscoApi`); wins over `server`. */
  @property({ attribute: false }) api?: DiscoApi;

  /** The id of the task to train. */
  @property({ attribute: 'task-id', reflect: true }) taskId = '';

  /**
   * The task to train. Read it once loaded (see `disco-task-load`): the task from the server, or the one
   * set here. Setting a task object trains it without asking a server for it (it wins over `task-id`).
   */
  get task(): Task | undefined {
    return this.taskInput ?? (this.taskResource.status === TaskStatus.COMPLETE ? this.taskResource.value : undefined);
  }
  set task(task: Task | undefined) {
    this.taskInput = task;
  }

  /** `local`, or the task's collaborative scheme; empty for the task's own scheme. The user may change it. */
  @property({ reflect: true }) scheme: Scheme | '' = '';

  /** Folder (URL ending in `/`) serving TF.js's `.wasm` files; wins over `configure({ wasmPaths })`. */
  @property({ attribute: 'wasm-path' }) wasmPath = '';

  /**
   * URL of the training worker's script, for pages that pin their assets; wins over `configure({ workerUrl })`.
   * Default: `disco-training.worker.js` next to `disco.js`. A worker on another origin starts through a `blob:` module.
   */
  @property({ attribute: 'worker-url' }) workerUrl = '';

  /**
   * Folder (URL ending in `/`) serving the kit's worker and `.wasm` files; wins over `configure({ assetsUrl })`.
   * Default: the folder of `disco.js`.
   */
  @property({ attribute: 'assets-url' }) assetsUrl = '';

  /** Local training: number of epochs (default: the task's `epochsPerRound × rounds`). */
  @property({ type: Number }) epochs?: number;

  /** Collaborative training: number of rounds (default: the task's). */
  @property({ type: Number }) rounds?: number;

  /** The model library trained models are saved to. */
  @property({ attribute: false }) store: ModelStore = defaultModelStore;

  /** Forces the light or dark palette; follows the user's preference when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  @state() private taskInput?: Task;
  @state() private previewRows: string[][] = [];
  @state() private thumbnails: { url: string; path: string }[] = [];
  /** Text tasks: the beginning of the first file. */
  @state() private textPreview = '';

  private readonly apiController = new ApiController(this);
  private readonly training = new TrainingController(this, () => TrainingWorker.at(this.assetSettings));
  private checking: Promise<void> = Promise.resolve();
  /** Counts `stop()` calls, so that a `start()` still waiting for its data gives up when stopped. */
  private stopRequests = 0;
  /** Aborts the waits of `start()` calls that wait for the task when `stop()` is called. */
  private startWaits = new AbortController();
  private pendingFiles: DataFile[] | undefined;

  private readonly taskResource = new LitTask(this, {
    args: () => [this.taskInput, this.apiController.api, this.taskId] as const,
    task: ([task, api, id]) => task ?? (api !== undefined && id !== '' ? api.getTask(id) : initialState),
    onComplete: (task) => this.emit('disco-task-load', { task }),
    onError: (error) => this.emit('disco-error', { code: errorCode(error), message: errorMessage(error) }),
  });

  private readonly epochLoss = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector<HTMLCanvasElement>('#epoch-loss'),
    xTitle: 'epoch',
    data: () => this.epochChart('loss', 'valLoss'),
  });
  private readonly epochAccuracy = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector<HTMLCanvasElement>('#epoch-accuracy'),
    xTitle: 'epoch',
    percent: true,
    data: () => this.epochChart('accuracy', 'valAccuracy'),
  });
  private readonly epochPerplexity = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector<HTMLCanvasElement>('#epoch-perplexity'),
    xTitle: 'epoch',
    logarithmic: true,
    data: () => this.epochChart('perplexity', 'valPerplexity'),
  });
  private readonly roundLoss = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector<HTMLCanvasElement>('#round-loss'),
    xTitle: 'round',
    data: () => this.roundChart('loss', 'valLoss'),
  });
  private readonly roundAccuracy = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector<HTMLCanvasElement>('#round-accuracy'),
    xTitle: 'round',
    percent: true,
    data: () => this.roundChart('accuracy', 'valAccuracy'),
  });
  private readonly roundPerplexity = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector<HTMLCanvasElement>('#round-perplexity'),
    xTitle: 'round',
    logarithmic: true,
    data: () => this.roundChart('perplexity', 'valPerplexity'),
  });

  /** The data files. Setting them checks them against the task (see `filesChecked`). */
  get files(): File[] {
    return this.training.files.map((f) => f.file);
  }
  set files(files: File[] | FileList | null | undefined) {
    this.useFiles(pickedFiles(files ?? []));
  }

  /**
   * Resolves once the current files have been checked against the task (after the task has loaded, when
   * the files were given before it).
   */
  get filesChecked(): Promise<void> {
    return settled(this.taskResource)
      .then(() => this.updateComplete)
      .then(() => this.checking)
      .then(() => this.updateComplete)
      .then(() => undefined);
  }

  /** Where the session stands: `empty`, `validating`, `invalid`, `ready`, `training`, `stopping`, `finished` or `failed`. */
  get phase(): TrainingPhase {
    return this.training.phase;
  }

  /** The outcome of the last session: final metrics, the saved model's id, whether it was stopped. */
  get result() {
    return this.training.result;
  }

  /**
   * The task once loaded.
   * @deprecated Read `task`, or listen to `disco-task-load`.
   */
  get loadedTask(): Task | undefined {
    return this.task;
  }

  /** The scheme training will use: the `scheme` property, else the task's. */
  get effectiveScheme(): Scheme {
    return this.scheme || currentValue(this.taskResource)?.scheme || 'local';
  }

  /**
   * Starts training on the current files. Waits for the task to load (however long its `task-id` and
   * `server` take to be set) and for the files' check; resolves when the session has ended (check
   * `result`), at once when `stop()` came first. Rejects when the task fails to load, or when training
   * cannot start (bad files, already running). The element must be in the page.
   */
  async start(): Promise<void> {
    const stops = this.stopRequests;
    const task = await this.loadTask();
    if (!task || stops !== this.stopRequests) return; // stopped before it could start
    await this.filesChecked;
    if (stops !== this.stopRequests) return;
    const config = getConfig();
    const api = this.apiController.api;
    return this.training.start({
      task,
      scheme: this.effectiveScheme,
      backend: { wasmPaths: resolveAssets(assetSettings(this.assetSettings)).wasmPaths, backend: config.backend },
      store: this.store,
      federation: api ? () => api.federation() : undefined,
      peers: api?.peers ? () => api.peers!() : undefined,
      epochs: this.epochs,
      rounds: this.rounds,
    });
  }

  /** This element's own asset settings (its attributes). */
  private get assetSettings(): AssetSettings {
    return { workerUrl: this.workerUrl, assetsUrl: this.assetsUrl, wasmPaths: this.wasmPath };
  }

  /** Stops training after the current batch; the model trained so far is still saved. */
  stop(): void {
    this.stopRequests++;
    this.startWaits.abort();
    this.startWaits = new AbortController();
    this.training.stop();
  }

  /** The task, once loaded; `undefined` when `stop()` was called meanwhile. */
  private async loadTask(): Promise<Task | undefined> {
    const signal = this.startWaits.signal;
    await this.updateComplete; // properties set just before start() are taken into account
    try {
      return await loadedValue(this, this.taskResource, signal);
    } catch (error) {
      if (signal.aborted) return undefined;
      const what = this.taskId ? `the task "${this.taskId}"` : 'the task';
      throw Object.assign(new Error(`Training cannot start: ${what} could not be loaded (${errorMessage(error)}).`), {
        code: errorCode(error),
        cause: error,
      });
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.revokeThumbnails();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Files given before the task arrived are checked as soon as it is there.
    if (this.pendingFiles && currentValue(this.taskResource)) {
      const files = this.pendingFiles;
      this.pendingFiles = undefined;
      this.useFiles(files);
    }
    void changed;
  }

  private useFiles(files: DataFile[]): void {
    if (this.training.running) return;
    this.updatePreview(files);
    const task = currentValue(this.taskResource);
    if (!task) this.pendingFiles = files;
    this.checking = this.training.setFiles(files, task, (file) => this.refusal(file, task));
  }

  /** Why a file cannot serve the task whatever it holds (a text task reads `.txt` files only), in the page's language. */
  private refusal(file: DataFile, task: Task | undefined): string | undefined {
    if (task?.dataType === 'text' && !isTextFile(file))
      return msg(str`${file.path}: not a text file (.txt). This task learns from plain text files.`, { id: 'train.not-text' });
    return undefined;
  }

  private updatePreview(files: DataFile[]): void {
    this.revokeThumbnails();
    this.previewRows = [];
    this.textPreview = '';
    if (currentValue(this.taskResource)?.dataType === 'text') {
      const text = files.find(isTextFile);
      if (text)
        void text.file
          .slice(0, 2_048)
          .text()
          .then((content) => (this.textPreview = content.replace(/\uFFFD+$/, '').slice(0, 600)));
      return;
    }
    this.thumbnails = files
      .filter(isImageFile)
      .slice(0, 12)
      .map((f) => ({ url: URL.createObjectURL(f.file), path: f.path }));
    const csv = files.find(isCsvFile);
    if (csv)
      void csv.file
        .slice(0, 16_384)
        .text()
        .then((text) => (this.previewRows = previewCsv(text, 5)));
  }

  private revokeThumbnails(): void {
    for (const t of this.thumbnails) URL.revokeObjectURL(t.url);
    this.thumbnails = [];
  }

  private epochChart(train: 'loss' | 'accuracy' | 'perplexity', validation: 'valLoss' | 'valAccuracy' | 'valPerplexity'): ChartData {
    const points = this.training.epochs;
    return {
      labels: points.map((p) => p.label),
      series: [
        { label: `training ${train}`, values: points.map((p) => p[train]), color: 'chart-1' },
        { label: `validation ${train}`, values: points.map((p) => p[validation]), color: 'chart-2', dashed: true },
      ],
    };
  }

  private roundChart(train: 'loss' | 'accuracy' | 'perplexity', validation: 'valLoss' | 'valAccuracy' | 'valPerplexity'): ChartData {
    const points = this.training.rounds;
    return {
      labels: points.map((p) => String(p.round)),
      series: [
        { label: `your ${train}`, values: points.map((p) => p.local[train]), color: 'chart-1' },
        { label: `your validation ${train}`, values: points.map((p) => p.local[validation]), color: 'chart-2', dashed: true },
        { label: `all participants, validation ${train}`, values: points.map((p) => p.aggregated?.[validation]), color: 'chart-3' },
      ],
    };
  }





  private handleScheme(event: Event): void {
    this.scheme = (event.target as HTMLInputElement).value as Scheme;
  }

  private handleStart(): void {
    this.start().catch((error: unknown) => this.emit('disco-error', { code: errorCode(error, 'training'), message: errorMessage(error) }));
  }

  private handleStop(): void {
    this.stop();
  }

  protected override render() {
    if (this.taskResource.status === TaskStatus.INITIAL) return html`<p class="muted">${msg(html`Set <code>task-id</code> and <code>server</code> to train a task.`, { id: 'train.unset' })}</p>`;
    if (this.taskResource.status === TaskStatus.ERROR) return renderError(this.taskResource.error, () => void this.taskResource.run());
    const task = this.taskResource.value;
    if (!task) return renderLoading(msg('Loading the task…', { id: 'task.loading' }));
    return html`
      <slot name="header"></slot>
      ${this.renderData(task)} ${this.renderControls(task)} ${this.renderProgress()} ${this.renderResult()} ${this.renderLog()}
    `;
  }

  private renderData(task: Task) {
    const t = this.training;
    const imageTask = task.dataType === 'image';
    const textTask = task.dataType === 'text';
    return html`<section aria-labelledby="data-heading">
      <h3 id="data-heading">${msg('Your data', { id: 'train.data' })}</h3>
      ${renderDropzone({
        id: 'data',
        hint: imageTask
          ? msg('images or a folder of images', { id: 'train.hint-images' })
          : textTask
            ? msg('text files (.txt)', { id: 'train.hint-text' })
            : msg('CSV files', { id: 'train.hint-csv' }),
        folders: imageTask,
        ...(textTask && { accept: '.txt,text/plain' }),
        disabled: t.running,
        onFiles: (files) => this.useFiles(files),
      })}
      ${t.files.length
        ? html`<ul class="files" part="files" aria-label=${msg('Data files', { id: 'train.files' })}>
            ${t.files.map(
              (f, i) => html`<li part=${f.error ? 'file invalid' : 'file'}>
                <span class="name">${f.path}</span>
                ${t.phase === 'validating'
                  ? html`<span class="muted"> – ${msg('checking…', { id: 'train.checking-file' })}</span>`
                  : f.error
                    ? html`<span class="error" part="file-error" id="file-error-${i}">${f.error}</span>`
                    : html`<span class="success">
                        – ${f.examples === 1 ? msg('1 example', { id: 'train.example' }) : msg(str`${f.examples} examples`, { id: 'train.examples' })}</span
                      >`}
              </li>`,
            )}
          </ul>`
        : nothing}
      ${this.renderPreview()}
    </section>`;
  }

  private renderPreview() {
    if (this.textPreview)
      return html`<div class="preview" part="preview" tabindex="0" role="region" aria-label=${msg('Preview of the beginning of the text', { id: 'train.preview-text' })}>
        <pre class="text-preview">${this.textPreview}</pre>
      </div>`;
    if (this.previewRows.length > 1) {
      const [header, ...rows] = this.previewRows;
      return html`<div class="preview" part="preview" tabindex="0" role="region" aria-label=${msg('Preview of the first rows', { id: 'train.preview-rows' })}>
        <table>
          <thead>
            <tr>
              ${header.map((h) => html`<th scope="col">${h}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}
          </tbody>
        </table>
      </div>`;
    }
    if (this.thumbnails.length)
      return html`<div class="preview" part="preview">
        <ul class="thumbs" aria-label=${msg('Preview of the first images', { id: 'train.preview-images' })}>
          ${this.thumbnails.map((t) => html`<li><img src=${t.url} alt=${t.path} /></li>`)}
        </ul>
      </div>`;
    return nothing;
  }

  private renderControls(task: Task) {
    const t = this.training;
    const scheme = this.effectiveScheme;
    const collaborative = task.scheme !== 'local' ? task.scheme : undefined;
    return html`<section aria-labelledby="train-heading">
      <h3 id="train-heading">${msg('Training', { id: 'train.training' })}</h3>
      ${collaborative
        ? html`<fieldset part="scheme" ?disabled=${t.running}>
            <legend>${msg('Where to train', { id: 'train.where' })}</legend>
            <label
              ><input type="radio" name="scheme" value="local" .checked=${scheme === 'local'} @change=${this.handleScheme} />
              ${msg(str`Only on this device (${schemeLabels.local.toLowerCase()})`, { id: 'train.only-here' })}</label
            >
            <label
              ><input type="radio" name="scheme" value=${collaborative} .checked=${scheme !== 'local'} @change=${this.handleScheme} />
              ${msg(str`Together with the other participants (${schemeLabels[collaborative].toLowerCase()})`, { id: 'train.together' })}</label
            >
          </fieldset>`
        : nothing}
      <div class="row">
        <button type="button" part="start-button" ?disabled=${!t.canStart} @click=${this.handleStart}>${msg('Start training', { id: 'train.start' })}</button>
        <button type="button" class="secondary" part="stop-button" ?disabled=${t.phase !== 'training'} @click=${this.handleStop}>${msg('Stop', { id: 'train.stop' })}</button>
        <span class="muted" role="status">${this.statusText()}</span>
      </div>
      ${t.phase === 'failed' && t.error ? html`<div role="alert" part="error" class="error-box">${t.error.message}</div>` : nothing}
    </section>`;
  }

  private statusText(): string {
    const t = this.training;
    switch (t.phase) {
      case 'empty':
        return msg('Add data to start.', { id: 'train.status-empty' });
      case 'validating':
        return msg('Checking the files…', { id: 'train.status-validating' });
      case 'invalid':
        return msg('Some files do not fit the task: fix or remove them to start.', { id: 'train.status-invalid' });
      case 'ready':
        return msg(str`${t.files.reduce((n, f) => n + f.examples, 0)} examples ready.`, { id: 'train.status-ready' });
      case 'training':
        return msg('Training…', { id: 'train.status-training' });
      case 'stopping':
        return msg('Stopping…', { id: 'train.status-stopping' });
      case 'finished':
        return t.result?.stopped
          ? msg('Training stopped.', { id: 'train.status-stopped' })
          : t.result?.budgetExhausted
            ? msg('Training stopped: the privacy budget is spent.', { id: 'train.status-budget' })
            : msg('Training finished.', { id: 'train.status-finished' });
      case 'failed':
        return msg('Training failed.', { id: 'train.status-failed' });
    }
  }

  private renderProgress() {
    const t = this.training;
    if (t.phase !== 'training' && t.phase !== 'stopping' && t.epochs.length === 0) return nothing;
    const p = t.progress;
    const collaborative = t.scheme !== 'local';
    const lm = t.languageModel;
    const lastEpoch = t.epochs.at(-1);
    const lastRound = t.rounds.at(-1);
    const bar = (id: string, label: string, value: number, max: number) =>
      html`<label for=${id}>${label}</label>
        <progress id=${id} value=${Math.min(value, max)} max=${Math.max(max, 1)}></progress>
        <span class="muted">${value} / ${max || '–'}</span>`;
    return html`<section aria-labelledby="progress-heading">
      <h3 id="progress-heading">${msg('Progress', { id: 'train.progress' })}</h3>
      <div class="progress" part="progress">
        ${collaborative ? bar('round-progress', t.asyncStatus ? msg('Version', { id: 'train.version' }) : msg('Round', { id: 'train.round' }), p.round, p.rounds) : nothing}
        ${bar('epoch-progress', msg('Epoch', { id: 'train.epoch' }), p.epoch, p.epochs)}
        ${p.batches > 0 || !collaborative ? bar('batch-progress', msg('Batch', { id: 'train.batch' }), p.batch, p.batches) : nothing}
      </div>
      ${collaborative
        ? html`<p part="participants">${msg(html`Participants now: <strong>${t.participants ?? '–'}</strong>`, { id: 'train.participants' })}</p>
            ${this.renderAsync()} ${this.renderPrivacy()}`
        : nothing}
      ${t.peers
        ? html`<p part="peers">
            ${msg(html`Peers connected: <strong>${t.peers.connected}</strong>`, { id: 'train.peers' })}${t.peers.failed.length
              ? html` <span class="warning">${msg(str`(${t.peers.failed.length} unreachable)`, { id: 'train.unreachable' })}</span>`
              : nothing};
            ${msg(html`exchanged with them: <strong>${formatBytes(t.peers.bytesSent)}</strong> sent, <strong>${formatBytes(t.peers.bytesReceived)}</strong> received`, {
              id: 'train.exchanged',
            })}
          </p>`
        : nothing}
      <div class="charts" part="charts">
        ${this.renderChart(
          'epoch-loss',
          msg('Loss per epoch', { id: 'train.loss-epoch' }),
          t.epochs.at(-1) && msg(str`latest: training ${decimal(t.epochs.at(-1)!.loss)}, validation ${decimal(t.epochs.at(-1)!.valLoss)}`, { id: 'train.latest-epoch' }),
        )}
        ${lm
          ? this.renderChart(
              'epoch-perplexity',
              msg('Perplexity per epoch', { id: 'train.perplexity-epoch' }),
              lastEpoch && msg(str`latest: training ${decimal(lastEpoch.perplexity, 1)}, validation ${decimal(lastEpoch.valPerplexity, 1)}`, { id: 'train.latest-epoch' }),
            )
          : this.renderChart(
              'epoch-accuracy',
              msg('Accuracy per epoch', { id: 'train.accuracy-epoch' }),
              lastEpoch && msg(str`latest: training ${percent(lastEpoch.accuracy)}, validation ${percent(lastEpoch.valAccuracy)}`, { id: 'train.latest-epoch' }),
            )}
        ${collaborative
          ? html`${this.renderChart(
              'round-loss',
              t.asyncStatus ? msg('Loss per version', { id: 'train.loss-version' }) : msg('Loss per round', { id: 'train.loss-round' }),
              t.rounds.at(-1) && msg(str`latest: ${decimal(t.rounds.at(-1)!.local.loss)}`, { id: 'train.latest' }),
            )}
            ${lm
              ? this.renderChart(
                  'round-perplexity',
                  t.asyncStatus ? msg('Perplexity per version', { id: 'train.perplexity-version' }) : msg('Perplexity per round', { id: 'train.perplexity-round' }),
                  lastRound &&
                    msg(str`latest: yours ${decimal(lastRound.local.valPerplexity ?? lastRound.local.perplexity, 1)}, all participants ${decimal(lastRound.aggregated?.valPerplexity, 1)}`, {
                      id: 'train.latest-round-perplexity',
                    }),
                )
              : this.renderChart(
                  'round-accuracy',
                  t.asyncStatus ? msg('Accuracy per version', { id: 'train.accuracy-version' }) : msg('Accuracy per round', { id: 'train.accuracy-round' }),
                  lastRound &&
                    msg(str`latest: yours ${percent(lastRound.local.valAccuracy ?? lastRound.local.accuracy)}, all participants ${percent(lastRound.aggregated?.valAccuracy)}`, {
                      id: 'train.latest-round',
                    }),
                )}`
          : nothing}
      </div>
    </section>`;
  }

  /** Asynchronous tasks: the model version now, the next version's buffer, and how stale this participant's last update arrived. */
  private renderAsync() {
    const status = this.training.asyncStatus;
    if (!status) return nothing;
    const { modelVersion, buffered, bufferSize, staleness } = status;
    return html`<p part="async">
      <span>${msg(html`Model version: <strong>${modelVersion}</strong>`, { id: 'train.model-version' })}</span>${buffered !== undefined && bufferSize !== undefined
        ? html`<span> ${msg(str`(next version: ${buffered} of ${bufferSize} updates)`, { id: 'train.buffer' })}</span>`
        : nothing}.
      <span
        >${staleness === undefined
          ? msg('Your updates have not arrived yet.', { id: 'train.staleness-none' })
          : staleness === 0
            ? msg(html`Your last update was trained from the latest version (staleness <strong>0</strong>).`, { id: 'train.staleness-fresh' })
            : msg(html`Your last update arrived <strong>${staleness}</strong> ${staleness === 1 ? msg('version', { id: 'train.version-word' }) : msg('versions', { id: 'train.versions-word' })} late (staleness); it counts a little less.`, {
                id: 'train.staleness',
              })}</span
      >
    </p>`;
  }

  /** Secure aggregation on (the task's setting, which the session's client enforces; confirmed by its end), and the ε spent so far. */
  private renderPrivacy() {
    const t = this.training;
    const task = this.task;
    const secure = t.result ? t.result.secureAggregation === true : task?.privacy.secureAggregation === true;
    const spent = t.privacySpent;
    if (!secure && !spent) return nothing;
    return html`<p part="privacy">
      ${secure ? html`<span>${msg(html`Secure aggregation: <strong>on</strong> (your model change leaves this device masked).`, { id: 'train.secure' })}</span>` : nothing}
      ${spent
        ? html`<span>${describeSpent({ epsilon: spent.epsilon, delta: spent.delta, budget: task?.privacy.budget?.epsilon }, spent.rounds)}</span>`
        : nothing}
    </p>`;
  }

  private renderChart(id: string, title: string, summary: string | undefined) {
    return html`<figure>
      <figcaption id="${id}-caption">${title}</figcaption>
      <div class="chart"><canvas id=${id} role="img" aria-labelledby="${id}-caption ${id}-summary"></canvas></div>
      <p id="${id}-summary" class="muted">${summary ?? msg('no data yet', { id: 'train.no-data' })}</p>
    </figure>`;
  }

  private renderResult() {
    const t = this.training;
    if (t.phase !== 'finished' || !t.result) return nothing;
    const { metrics, modelId, stopped, budgetExhausted } = t.result;
    return html`<section aria-labelledby="result-heading" part="result">
      <h3 id="result-heading">${stopped || budgetExhausted ? msg('Stopped', { id: 'train.stopped' }) : msg('Done', { id: 'train.done' })}</h3>
      ${budgetExhausted
        ? html`<p part="budget" class="warning">${describeBudgetExhausted(this.task?.privacy.budget?.epsilon, t.result.epsilon, t.privacySpent?.rounds)}</p>`
        : nothing}
      <p class="result">
        ${t.languageModel
          ? msg(
              html`Perplexity on held-out text: <strong>${decimal(metrics.perplexity ?? (metrics.loss === undefined ? undefined : Math.exp(metrics.loss)), 1)}</strong> (loss ${decimal(metrics.loss)}); on the training text: ${decimal(
                metrics.trainLoss === undefined ? undefined : Math.exp(metrics.trainLoss),
                1,
              )}.`,
              { id: 'train.result-perplexity' },
            )
          : msg(html`Accuracy on held-out data: <strong>${percent(metrics.accuracy)}</strong> (loss ${decimal(metrics.loss)}); on the training data: ${percent(metrics.trainAccuracy)}.`, {
              id: 'train.result',
            })}
      </p>
      <p>${modelId
          ? msg('The model was saved to the model library of this browser.', { id: 'train.saved' })
          : msg('Stopped before the first epoch ended: no model was saved.', { id: 'train.not-saved' })}</p>
      <slot name="result"></slot>
    </section>`;
  }

  private renderLog() {
    const log = this.training.log;
    if (log.length === 0) return nothing;
    return html`<section aria-labelledby="log-heading">
      <h3 id="log-heading">${msg('Log', { id: 'train.log' })}</h3>
      <div class="log" part="log" role="log" aria-labelledby="log-heading" tabindex="0">
        <ol>
          ${log.map((line) => html`<li class=${line.level}><time>${new Date(line.time).toLocaleTimeString()}</time> ${line.message}</li>`)}
        </ol>
      </div>
    </section>`;
  }
}
