import { msg, str } from '@lit/localize';
import { html, nothing, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import {
  aggregationStrategies,
  builtinArchitectures,
  DEFAULT_MAX_MISSED_ROUNDS,
  DEFAULT_TRIM_FRACTION,
  serverOptimizers,
  type AggregationStrategyName,
  type ServerOptimizerName,
  dataTypes,
  gptSizes,
  privacySettings,
  stalenessWeightings,
  trainingModes,
  type GptSize,
  type StalenessWeighting,
  type TrainingMode,
  quantizations,
  schemes,
  type DataType,
  type PreprocessingStep,
  type Task,
  type TaskInput,
} from '@disco/core';
import { DiscoApiError } from '@disco/core';
import type { DiscoApi, ModelUpload, ServerCapabilities } from '../api/disco-api.js';
import { DiscoElement } from '../base/disco-element.js';
import { dataTypeLabels, schemeExplanations, schemeLabels } from '../base/labels.js';
import { errorCode, errorMessage } from '../base/states.js';
import { ApiController } from '../controllers/api-controller.js';
import { describePrivacy } from '../task/privacy-statement.js';
import { applyPresetToValues, presetIssues, presetOf, privacyPresets, roundsWithinBudget, type PrivacyPreset } from './privacy-presets.js';
import {
  defaultDelta,
  draftIssues,
  initialValues,
  issuesByField,
  optimizerFields,
  parameterStrategies,
  privacyOf,
  refusalsOf,
  schemaDefaults,
  textDefaults,
  toTaskInput,
  type DraftValues,
  type StepDraft,
} from './task-draft.js';
import { taskFormStyles } from './task-form.styles.js';

/** Which built-in architectures fit which data type. */
const architecturesFor: Record<DataType, readonly string[]> = {
  tabular: ['tabular-mlp'],
  image: ['mnist-cnn', 'cifar10-cnn', 'image-mlp'],
  text: ['gpt'],
};

const tabularSteps: StepDraft['type'][] = ['fill-missing', 'one-hot', 'standardize', 'min-max', 'log1p'];
const imageSteps: StepDraft['type'][] = ['resize', 'scale-pixels'];
const stepLabels: Record<StepDraft['type'], string> = {
  get 'fill-missing'() {
    return msg('Fill missing values', { id: 'task-form.step-fill' });
  },
  get 'one-hot'() {
    return msg('One-hot encode categories', { id: 'task-form.step-one-hot' });
  },
  get standardize() {
    return msg('Standardize (mean, std)', { id: 'task-form.step-standardize' });
  },
  get 'min-max'() {
    return msg('Scale to [0, 1] (min, max)', { id: 'task-form.step-min-max' });
  },
  get log1p() {
    return msg('Logarithm (log 1 + x)', { id: 'task-form.step-log' });
  },
  get resize() {
    return msg('Resize images to the task size', { id: 'task-form.step-resize' });
  },
  get 'scale-pixels'() {
    return msg('Scale pixels to [0, 1]', { id: 'task-form.step-scale-pixels' });
  },
};

// Getters, so that each read is in the page's current language.

/** The strategies' names, for people. */
const strategyLabels: Record<AggregationStrategyName, string> = {
  get fedavg() {
    return msg('FedAvg (weighted average)', { id: 'task-form.fedavg' });
  },
  get median() {
    return msg('Median', { id: 'task-form.median' });
  },
  get 'trimmed-mean'() {
    return msg('Trimmed mean', { id: 'task-form.trimmed-mean' });
  },
  get krum() {
    return msg('Krum', { id: 'task-form.krum' });
  },
  get 'multi-krum'() {
    return msg('Multi-Krum', { id: 'task-form.multi-krum' });
  },
  get 'centered-clipping'() {
    return msg('Centered clipping', { id: 'task-form.centered-clipping' });
  },
};

/** One line per strategy: what it computes and what it tolerates (decision 0012). */
const strategyExplanations: Record<AggregationStrategyName, string> = {
  get fedavg() {
    return msg('The average of the updates, each weighted by the examples it claims: one participant can move it without bound.', { id: 'task-form.fedavg-explain' });
  },
  get median() {
    return msg('Per coordinate, the middle value of the updates, each counting once: it tolerates outliers in fewer than half of them.', { id: 'task-form.median-explain' });
  },
  get 'trimmed-mean'() {
    return msg('Per coordinate, the mean of the updates once a fraction of the largest and of the smallest values is dropped, each update counting once.', { id: 'task-form.trimmed-mean-explain' });
  },
  get krum() {
    return msg('The one update nearest to its closest neighbours: it tolerates f attackers, with its guarantee when there are more than 2f + 2 updates.', { id: 'task-form.krum-explain' });
  },
  get 'multi-krum'() {
    return msg('The mean of the n − f updates nearest to their closest neighbours: Krum’s tolerance, with most of the averaging’s benefit.', { id: 'task-form.multi-krum-explain' });
  },
  get 'centered-clipping'() {
    return msg('From 0, three steps towards the updates, each update’s pull clipped to a radius τ: a minority can only pull so far.', { id: 'task-form.centered-clipping-explain' });
  },
};

/** What `aggregation.parameter` is for each strategy that reads it. */
const parameterLabels = {
  get 'trimmed-mean'() {
    return msg('Fraction trimmed at each end (optional)', { id: 'task-form.trim-fraction' });
  },
  get krum() {
    return msg('Attackers tolerated f (optional)', { id: 'task-form.krum-f' });
  },
  get 'multi-krum'() {
    return msg('Attackers tolerated f (optional)', { id: 'task-form.krum-f' });
  },
  get 'centered-clipping'() {
    return msg('Clipping radius τ (optional)', { id: 'task-form.radius' });
  },
};

const parameterHints = {
  get 'trimmed-mean'() {
    return msg(str`From 0 to below 0.5. Default ${DEFAULT_TRIM_FRACTION}.`, { id: 'task-form.trim-fraction-hint' });
  },
  get krum() {
    return msg('A whole number. Default 0.', { id: 'task-form.krum-f-hint' });
  },
  get 'multi-krum'() {
    return msg('A whole number; the n − f best updates are averaged. Default 0.', { id: 'task-form.multi-krum-f-hint' });
  },
  get 'centered-clipping'() {
    return msg('Above 0. Default: in each step, the median distance of the updates to the centre.', { id: 'task-form.radius-hint' });
  },
};

/** The server optimizers' names; `''` is none. */
const optimizerLabels: Record<ServerOptimizerName | '', string> = {
  get ''() {
    return msg('None (the aggregate as it is)', { id: 'task-form.optimizer-none' });
  },
  get sgd() {
    return msg('SGD', { id: 'task-form.optimizer-sgd' });
  },
  get momentum() {
    return msg('Momentum (FedAvgM)', { id: 'task-form.optimizer-momentum' });
  },
  get adam() {
    return msg('Adam (FedAdam)', { id: 'task-form.optimizer-adam' });
  },
  get yogi() {
    return msg('Yogi (FedYogi)', { id: 'task-form.optimizer-yogi' });
  },
};

/** The gpt architecture's named sizes, for people (the shapes are core's `GPT_SIZES`). */
const gptSizeLabels: Record<GptSize, string> = {
  get nano() {
    return msg('nano (3 layers, 3 heads, 48 dimensions: trains in a browser)', { id: 'task-form.gpt-nano' });
  },
  get micro() {
    return msg('micro (4 layers, 4 heads, 128 dimensions)', { id: 'task-form.gpt-micro' });
  },
  get mini() {
    return msg('mini (6 layers, 6 heads, 192 dimensions)', { id: 'task-form.gpt-mini' });
  },
  get gpt2() {
    return msg('gpt2 (GPT-2 small: 12 layers, 12 heads, 768 dimensions)', { id: 'task-form.gpt-small' });
  },
};

/** The training modes of federated tasks, for people. */
const modeLabels: Record<TrainingMode, string> = {
  get sync() {
    return msg('Synchronous rounds', { id: 'task-form.mode-sync' });
  },
  get async() {
    return msg('Asynchronous (FedBuff)', { id: 'task-form.mode-async' });
  },
};

const modeExplanations: Record<TrainingMode, string> = {
  get sync() {
    return msg('Each round waits for its participants (or its deadline), then averages their updates.', { id: 'task-form.mode-sync-explain' });
  },
  get async() {
    return msg('Nobody waits: the server accepts an update whenever a participant finishes and publishes a new version every K updates, an older update weighing less.', {
      id: 'task-form.mode-async-explain',
    });
  },
};

const weightingLabels: Record<StalenessWeighting, string> = {
  get polynomial() {
    return msg('Polynomial: (1 + s)^−a', { id: 'task-form.weighting-polynomial' });
  },
  get constant() {
    return msg('Constant: every update weighs the same', { id: 'task-form.weighting-constant' });
  },
};

/** Upload issues the API names by file: they belong next to the upload field. */
const UPLOAD_ALIASES = { 'model.json': 'model', 'weights.bin': 'model', weightsManifest: 'model' };

/**
 * @summary Create a task on a Disco server without code: every field of the task with sensible defaults,
 * inline validation, privacy presets with the statement participants will read, and a built-in architecture or an uploaded TF.js model.
 *
 * Fields are checked as they are filled (with core's `validateTask` and the server's own checks of what it
 * enforces); the server's refusals are shown next to the field they concern. The privacy presets ("None",
 * "Secure aggregation", "Secure aggregation + differential privacy (ε ≤ 8)") set exactly their privacy settings
 * and what those require (a clipping norm, at least 3 participants, a bound on the examples an update claims);
 * a preset the task cannot take (a local task, a strategy other than FedAvg) is disabled with core's reason.
 * "Custom" shows every privacy setting.
 * For a federated task, secure aggregation (its presets and its checkbox) is disabled with the server's reason when
 * the server says it would refuse it (`tasks.capabilities`: a server on PostgreSQL, decision 0015), and never sent.
 *
 * The aggregation settings: every strategy core implements, each with a one-line explanation (those the privacy
 * settings refuse, with secure aggregation or noise, are disabled with core's reason); the strategy's parameter
 * as it reads it (trimmed fraction, f for Krum and multi-Krum, radius τ for centered clipping); bucketing (robust
 * strategies only); the server optimizer with the settings each one reads (federated tasks only); and the rounds a
 * silent participant is waited for (federated tasks). Only the settings the choices read are sent.
 *
 * Text tasks (a language model on participants' `.txt` files): the context length and the `gpt` architecture's
 * size and dropout. Federated tasks: the training mode, synchronous rounds or asynchronous versions (FedBuff),
 * with the updates per version K, the most versions an update may lag and the staleness weighting; no mode is
 * offered to other schemes, and a mode core refuses for the task is disabled with core's reason. In English or
 * French (the page's `<html lang>`); core's and the server's messages stay in English.
 *
 * @slot header - Above the form, e.g. a heading.
 *
 * @event disco-task-create - The server created the task. Detail: `{ task }`.
 * @event disco-error - The server refused the task or could not be reached. Detail: `{ code, message }`.
 *
 * @csspart form - The `<form>`.
 * @csspart summary - The list of problems shown after a refused submission.
 * @csspart privacy - The privacy settings: presets, custom fields and the statement participants will read.
 * @csspart aggregation - The aggregation settings: strategy, its parameter, bucketing, server optimizer, missed rounds.
 * @csspart presets - The privacy presets.
 * @csspart privacy-statement - What participants will be told about their privacy (as `<disco-task>` says it).
 * @csspart upload - The TF.js model upload input.
 * @csspart submit-button - "Create task".
 * @csspart success - The confirmation after creation.
 *
 * @cssproperty --disco-color-danger - Field errors.
 */
export class DiscoTaskForm extends DiscoElement {
  static override styles = taskFormStyles;

  /** Base URL of the Disco server. */
  @property({ reflect: true }) server?: string;

  /** An injected API (e.g. `FakeDiscoApi`); wins over `server`. */
  @property({ attribute: false }) api?: DiscoApi;

  /** The server's admin token; when absent, the form asks for it. */
  @property({ attribute: 'admin-token' }) adminToken = '';

  /** Forces the light or dark palette; follows the user's preference when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  @state() private values: DraftValues = initialValues();
  @state() private steps: StepDraft[] = [];
  @state() private touched = new Set<string>();
  @state() private submitted = false;
  @state() private submitting = false;
  @state() private serverIssues = new Map<string, string[]>();
  @state() private upload: ModelUpload | undefined;
  @state() private uploadNames = '';
  @state() private tokenInput = '';
  @state() private created: Task | undefined;
  /** The user chose "Custom" privacy (otherwise the preset the values match, or custom when none). */
  @state() private customPrivacy = false;

  /** What the server says it supports (`capabilities()`), once it answered; `undefined` assumes everything. */
  @state() private capabilities: ServerCapabilities | undefined;

  private readonly apiController = new ApiController(this);
  /** The API whose capabilities were asked for (asked again when the `api` or `server` changes). */
  private capabilitiesOf: DiscoApi | undefined;
  /** The client-side problems of the draft being rendered. */
  private renderedIssues = new Map<string, string[]>();

  /** The task the form describes now (defaults left out). */
  get draft(): TaskInput {
    return toTaskInput(this.values, this.steps);
  }

  /** Sets several fields at once, by path (`{ 'training.rounds': '10' }`), e.g. to prefill the form. */
  setValues(values: DraftValues): void {
    this.values = { ...this.values, ...values };
    for (const path of Object.keys(values)) this.clearServerIssue(path);
  }

  /** Validates and submits. Resolves with the created task, or `undefined` when it was refused (see the form). */
  async submit(): Promise<Task | undefined> {
    this.submitted = true;
    this.created = undefined;
    const token = this.adminToken || this.tokenInput;
    const local = this.localIssues(this.draft);
    if (!token) local.push(`adminToken: ${msg('the admin token is required to create a task', { id: 'task-form.token-required' })}`);
    if (this.values['model.source'] === 'tfjs' && !this.upload) local.push(`model: ${msg('choose the model.json and weights.bin of a TF.js model', { id: 'task-form.model-required' })}`);
    if (local.length) {
      this.serverIssues = issuesByField(local.filter((i) => i.startsWith('adminToken') || i.startsWith('model:')), this.fieldList());
      await this.updateComplete;
      this.focusFirstError();
      return undefined;
    }
    const api = this.apiController.api;
    if (!api) {
      this.serverIssues = new Map([['', [msg('Set the "server" attribute to create a task.', { id: 'task-form.no-server' })]]]);
      return undefined;
    }
    this.submitting = true;
    try {
      const task = await api.createTask(this.draft, { adminToken: token, model: this.upload });
      this.created = task;
      this.serverIssues = new Map();
      this.emit('disco-task-create', { task });
      return task;
    } catch (error) {
      const issues =
        error instanceof DiscoApiError && error.issues?.length
          ? error.issues
          : error instanceof DiscoApiError && (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN')
            ? [`adminToken: ${error.message}`]
            : [errorMessage(error)];
      this.serverIssues = issuesByField(issues, this.fieldList(), UPLOAD_ALIASES);
      this.emit('disco-error', { code: errorCode(error), message: errorMessage(error) });
      await this.updateComplete;
      this.focusFirstError();
      return undefined;
    } finally {
      this.submitting = false;
    }
  }

  /** Empties the form back to its defaults. */
  reset(): void {
    this.values = initialValues();
    this.steps = [];
    this.touched = new Set();
    this.submitted = false;
    this.serverIssues = new Map();
    this.upload = undefined;
    this.uploadNames = '';
    this.created = undefined;
    this.customPrivacy = false;
  }

  /** Every field's path: the values', the preprocessing steps', the upload and the token. */
  private fieldList(): string[] {
    const stepFields = this.steps.flatMap((_, i) => ['type', 'column', 'value', 'categories', 'mean', 'std', 'min', 'max'].map((k) => `preprocessing.${i}.${k}`));
    return [...Object.keys(this.values), 'preprocessing', ...stepFields, 'model', 'adminToken'];
  }

  /**
   * Why the server would refuse secure aggregation for the task as it stands (a federated task on a server that
   * says it does not run it: PostgreSQL, decision 0015), or `undefined`.
   */
  private get secureAggregationRefusal(): string | undefined {
    if (this.values.scheme !== 'federated' || this.capabilities?.federatedSecureAggregation !== false) return undefined;
    return msg('this server does not run secure aggregation for federated tasks (it runs on PostgreSQL, where several instances may serve a task)', {
      id: 'task-form.secure-refused-by-server',
    });
  }

  /** Core's problems with the draft, and secure aggregation when the server would refuse it. */
  private localIssues(draft: TaskInput): string[] {
    const refusal = this.secureAggregationRefusal;
    return [...draftIssues(draft), ...(refusal && draft.privacy?.secureAggregation ? [`privacy.secureAggregation: ${refusal}`] : [])];
  }

  /** Asks the API for its capabilities when it changed (the answer re-renders; a failure assumes everything). */
  protected override willUpdate(): void {
    const api = this.apiController.api;
    if (api === this.capabilitiesOf) return;
    this.capabilitiesOf = api;
    this.capabilities = undefined;
    api?.capabilities?.().then(
      (capabilities) => {
        if (this.capabilitiesOf === api) this.capabilities = capabilities;
      },
      () => undefined,
    );
  }

  /** Client-side problems by field, shown for the fields touched (all after a submission). */
  private get clientIssues(): Map<string, string[]> {
    const issues = this.localIssues(this.draft);
    return issues.length ? issuesByField(issues, this.fieldList()) : new Map();
  }

  private focusFirstError(): void {
    // The first invalid field, else the summary (`a?.focus() ?? b?.focus()` always moved on to the summary).
    const target = this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]') ?? this.renderRoot.querySelector<HTMLElement>('[part="summary"]');
    target?.focus();
  }

  private clearServerIssue(path: string): void {
    if (!this.serverIssues.has(path)) return;
    const next = new Map(this.serverIssues);
    next.delete(path);
    this.serverIssues = next;
  }

  private setValue(path: string, value: string): void {
    const next = { ...this.values, [path]: value };
    if (path === 'dataType') {
      const first = architecturesFor[value as DataType][0];
      next['model.architecture'] = first ?? next['model.architecture'];
      if (!first) next['model.source'] = 'tfjs';
      const offered = value === 'image' ? imageSteps : value === 'tabular' ? tabularSteps : []; // text has no preprocessing steps
      this.steps = this.steps.filter((s) => offered.includes(s.type));
    }
    this.values = next;
    this.created = undefined;
    this.clearServerIssue(path);
  }

  private touch(path: string): void {
    if (this.touched.has(path)) return;
    this.touched = new Set([...this.touched, path]);
  }

  private handleInput(event: Event): void {
    const control = event.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    if (!(control.name in this.values)) return; // steps, upload and token have their own handlers
    const value = control instanceof HTMLInputElement && control.type === 'checkbox' ? String(control.checked) : control.value;
    this.setValue(control.name, value);
  }

  private handleBlur(event: Event): void {
    this.touch((event.target as HTMLInputElement).name);
  }

  private handlePreset(event: Event): void {
    const choice = (event.target as HTMLInputElement).value as PrivacyPreset | 'custom';
    this.customPrivacy = choice === 'custom';
    if (choice === 'custom') return;
    const next = applyPresetToValues(this.values, this.draft, choice);
    for (const path of Object.keys(next)) if (next[path] !== this.values[path]) this.clearServerIssue(path);
    this.values = next;
    this.created = undefined;
  }

  private handleAddStep(): void {
    const type = this.values.dataType === 'image' ? 'scale-pixels' : 'fill-missing';
    this.steps = [...this.steps, { type, column: '', value: '', categories: '', mean: '', std: '', min: '', max: '' }];
  }

  private handleStepInput(event: Event): void {
    const control = event.target as HTMLInputElement | HTMLSelectElement;
    const [, index, key] = control.name.split('.') as [string, string, keyof StepDraft];
    this.steps = this.steps.map((s, i) => (i === Number(index) ? { ...s, [key]: control.value } : s));
    this.clearServerIssue(control.name);
  }

  private handleRemoveStep(event: Event): void {
    const index = Number((event.currentTarget as HTMLElement).dataset.index);
    this.steps = this.steps.filter((_, i) => i !== index);
  }

  private async handleUpload(event: Event): Promise<void> {
    const files = Array.from((event.target as HTMLInputElement).files ?? []);
    this.clearServerIssue('model');
    this.upload = undefined;
    this.uploadNames = files.map((f) => f.name).join(', ');
    const json = files.find((f) => f.name.endsWith('.json'));
    const weights = files.filter((f) => f !== json);
    try {
      if (!json || weights.length === 0) throw new Error(msg('choose both model.json and its weights file (weights.bin)', { id: 'task-form.upload-both' }));
      let modelJson: unknown;
      try {
        modelJson = JSON.parse(await json.text());
      } catch {
        throw new Error(msg(str`${json.name} is not valid JSON`, { id: 'task-form.upload-json' }));
      }
      if (typeof modelJson !== 'object' || modelJson === null || !('modelTopology' in modelJson))
        throw new Error(msg(str`${json.name} is not a TF.js model (it has no "modelTopology")`, { id: 'task-form.upload-not-tfjs' }));
      const ordered = orderWeightFiles(modelJson, weights);
      const weightsBuffer = await new Blob(ordered).arrayBuffer();
      this.upload = { modelJson, weights: weightsBuffer };
    } catch (error) {
      this.serverIssues = new Map([...this.serverIssues, ['model', [errorMessage(error)]]]);
    }
  }

  private handleToken(event: Event): void {
    this.tokenInput = (event.target as HTMLInputElement).value;
    this.clearServerIssue('adminToken');
  }

  private handleSubmit(event: Event): void {
    event.preventDefault();
    void this.submit();
  }

  protected override render() {
    const client = (this.renderedIssues = this.clientIssues);
    const issues = (path: string) => [...(this.submitted || this.touched.has(path) ? (client.get(path) ?? []) : []), ...(this.serverIssues.get(path) ?? [])];
    const general = [...(this.serverIssues.get('') ?? []), ...(this.submitted ? (client.get('') ?? []) : [])];
    const all = this.submitted ? [...client.entries(), ...this.serverIssues.entries()].flatMap(([f, list]) => list.map((r) => (f ? `${f}: ${r}` : r))) : [];
    const v = this.values;
    const dataType = v.dataType as DataType;
    const count = all.length || general.length;
    return html`
      <slot name="header"></slot>
      ${count
        ? html`<div class="error-box summary" role="alert" part="summary" tabindex="-1">
            <strong
              >${count === 1
                ? msg('1 problem to fix before the task can be created:', { id: 'task-form.one-problem' })
                : msg(str`${count} problems to fix before the task can be created:`, { id: 'task-form.problems' })}</strong
            >
            <ul>
              ${[...new Set([...general, ...all])].map((i) => html`<li>${i}</li>`)}
            </ul>
          </div>`
        : nothing}
      ${this.created
        ? html`<p role="status" part="success" class="success">${msg(str`The task “${this.created.title}” (${this.created.id}) was created.`, { id: 'task-form.created' })}</p>`
        : nothing}
      <form part="form" novalidate @submit=${this.handleSubmit} @input=${this.handleInput} @change=${this.handleInput} @focusout=${this.handleBlur}>
        <fieldset>
          <legend>${msg('About the task', { id: 'task-form.about' })}</legend>
          <div class="grid">
            ${this.field(issues, 'id', msg('Identifier', { id: 'task-form.identifier' }), this.text('id', { hint: msg('Lowercase letters, digits and dashes, e.g. "heart-disease".', { id: 'task-form.identifier-hint' }), required: true }))}
            ${this.field(issues, 'title', msg('Title', { id: 'task-form.title' }), this.text('title', { required: true }))}
            ${this.field(issues, 'description', msg('What is learned (markdown)', { id: 'task-form.description' }), this.textarea('description', 4), 'wide')}
            ${this.field(issues, 'dataFormat', msg('The data participants need (markdown)', { id: 'task-form.data-format' }), this.textarea('dataFormat', 3), 'wide')}
            ${this.field(issues, 'sample', msg('Example data (a few CSV lines or file names)', { id: 'task-form.sample' }), this.textarea('sample', 3), 'wide')}
          </div>
        </fieldset>

        <fieldset>
          <legend>${msg('Data', { id: 'task-form.data' })}</legend>
          <div class="grid">
            ${this.field(issues, 'dataType', msg('Kind of data', { id: 'task-form.data-type' }), this.select('dataType', dataTypes.map((t) => [t, dataTypeLabels[t]])))}
            ${dataType === 'tabular'
              ? html`${this.field(issues, 'tabular.inputColumns', msg('Input columns', { id: 'task-form.input-columns' }), this.text('tabular.inputColumns', { hint: msg('Comma-separated, as in the CSV header.', { id: 'task-form.input-columns-hint' }) }))}
                ${this.field(issues, 'tabular.outputColumn', msg('Column to predict', { id: 'task-form.output-column' }), this.text('tabular.outputColumn'))}
                ${this.field(issues, 'tabular.labels', msg('Its values (classes)', { id: 'task-form.tabular-labels' }), this.text('tabular.labels', { hint: msg('Comma-separated, e.g. 0, 1.', { id: 'task-form.tabular-labels-hint' }) }))}`
              : nothing}
            ${dataType === 'image'
              ? html`${this.field(issues, 'image.width', msg('Width (pixels)', { id: 'task-form.width' }), this.number('image.width', { min: 1 }))}
                ${this.field(issues, 'image.height', msg('Height (pixels)', { id: 'task-form.height' }), this.number('image.height', { min: 1 }))}
                ${this.field(issues, 'image.channels', msg('Colours', { id: 'task-form.colours' }), this.select('image.channels', [['1', msg('Grayscale', { id: 'task-form.grayscale' })], ['3', msg('Colour (RGB)', { id: 'task-form.colour' })]]))}
                ${this.field(issues, 'image.labels', msg('Labels (classes)', { id: 'task-form.image-labels' }), this.text('image.labels', { hint: msg('Comma-separated, e.g. cat, dog.', { id: 'task-form.image-labels-hint' }) }))}`
              : nothing}
            ${dataType === 'text'
              ? this.field(
                  issues,
                  'text.contextLength',
                  msg('Context length (tokens)', { id: 'task-form.context-length' }),
                  this.number('text.contextLength', {
                    min: 4,
                    max: 1024,
                    step: 1,
                    hint: msg(str`Tokens the model reads at once, from 4 to 1024; the .txt files are cut into windows of this length. Default ${textDefaults.contextLength}.`, {
                      id: 'task-form.context-length-hint',
                    }),
                  }),
                )
              : nothing}
          </div>
          ${dataType === 'text'
            ? html`<p class="hint">${msg('Participants bring plain text files (.txt, UTF-8), tokenized with the GPT-2 byte-pair encoding (50,257 tokens); the model learns to predict each next token.', { id: 'task-form.text-hint' })}</p>`
            : this.renderSteps(issues, dataType)}
        </fieldset>

        <fieldset>
          <legend>${msg('Model', { id: 'task-form.model' })}</legend>
          <div class="grid">
            ${this.field(
              issues,
              'model.source',
              msg('Model', { id: 'task-form.model' }),
              this.select('model.source', [
                ['builtin', msg('A built-in architecture', { id: 'task-form.builtin' })],
                ['tfjs', msg('My TF.js model (upload)', { id: 'task-form.tfjs' })],
              ]),
            )}
            ${v['model.source'] === 'builtin'
              ? html`${this.field(
                  issues,
                  'model.architecture',
                  msg('Architecture', { id: 'task-form.architecture' }),
                  this.select(
                    'model.architecture',
                    builtinArchitectures.filter((a) => architecturesFor[dataType].includes(a)).map((a) => [a, a]),
                  ),
                )}
                ${v['model.architecture']?.endsWith('mlp')
                  ? this.field(issues, 'model.hiddenUnits', msg('Hidden layer sizes (optional)', { id: 'task-form.hidden-units' }), this.text('model.hiddenUnits', { hint: msg('Comma-separated, e.g. 32, 16.', { id: 'task-form.hidden-units-hint' }) }))
                  : nothing}
                ${v['model.architecture'] === 'gpt'
                  ? html`${this.field(
                      issues,
                      'model.gpt.size',
                      msg('Model size', { id: 'task-form.gpt-size' }),
                      this.select('model.gpt.size', gptSizes.map((size) => [size, gptSizeLabels[size]])),
                      undefined,
                      msg('A decoder-only transformer (GPT); the larger, the slower to train in a browser.', { id: 'task-form.gpt-size-hint' }),
                    )}
                    ${this.field(
                      issues,
                      'model.gpt.dropout',
                      msg('Dropout while training', { id: 'task-form.gpt-dropout' }),
                      this.number('model.gpt.dropout', { min: 0, max: 0.9, step: 0.05, hint: msg('From 0 (none) to 0.9.', { id: 'task-form.gpt-dropout-hint' }) }),
                    )}`
                  : nothing}`
              : this.field(
                  issues,
                  'model',
                  msg('model.json and weights.bin', { id: 'task-form.upload' }),
                  html`<input
                      id="f-model"
                      name="model-upload"
                      part="upload"
                      type="file"
                      multiple
                      accept=".json,.bin"
                      aria-describedby="f-model-hint f-model-errors"
                      aria-invalid=${issues('model').length ? 'true' : 'false'}
                      @change=${this.handleUpload}
                    />
                    <span class="hint" id="f-model-hint">${this.uploadNames || msg('A TF.js LayersModel, as saved by model.save().', { id: 'task-form.upload-hint' })}</span>`,
                  'wide',
                )}
          </div>
        </fieldset>

        <fieldset>
          <legend>${msg('Training', { id: 'task-form.training' })}</legend>
          <div class="grid">
            ${this.field(issues, 'training.epochsPerRound', msg('Epochs per round', { id: 'task-form.epochs' }), this.number('training.epochsPerRound', { min: 1 }))}
            ${this.field(issues, 'training.rounds', msg('Rounds', { id: 'task-form.rounds' }), this.number('training.rounds', { min: 1 }))}
            ${this.field(issues, 'training.batchSize', msg('Batch size', { id: 'task-form.batch-size' }), this.number('training.batchSize', { min: 1 }))}
            ${this.field(issues, 'training.validationSplit', msg('Share held out for validation', { id: 'task-form.validation-split' }), this.number('training.validationSplit', { min: 0, max: 0.9, step: 0.05 }))}
            ${this.field(
              issues,
              'training.optimizer',
              msg('Optimizer', { id: 'task-form.optimizer' }),
              this.select('training.optimizer', [
                ['adam', 'Adam'],
                ['sgd', 'SGD'],
                ['rmsprop', 'RMSprop'],
              ]),
            )}
            ${this.field(issues, 'training.learningRate', msg('Learning rate', { id: 'task-form.learning-rate' }), this.number('training.learningRate', { min: 0, step: 0.0001 }))}
            ${this.field(issues, 'training.seed', msg('Random seed', { id: 'task-form.seed' }), this.number('training.seed', { step: 1 }))}
          </div>
        </fieldset>

        <fieldset>
          <legend>${msg('Collaboration', { id: 'task-form.collaboration' })}</legend>
          <div class="grid">
            ${this.field(issues, 'scheme', msg('Scheme', { id: 'task-form.scheme' }), this.select('scheme', schemes.map((s) => [s, schemeLabels[s]])), undefined, schemeExplanations[v.scheme as keyof typeof schemeExplanations])}
            ${v.scheme === 'federated' ? this.renderMode(issues) : nothing}
            ${this.field(issues, 'minParticipants', msg('Minimum participants per round', { id: 'task-form.min-participants' }), this.number('minParticipants', { min: 1 }))}
            ${this.field(issues, 'roundDeadlineSeconds', msg('Round deadline (seconds)', { id: 'task-form.deadline' }), this.number('roundDeadlineSeconds', { min: 1 }))}
            ${this.field(
              issues,
              'aggregation.maxSamplesPerUpdate',
              msg('Most examples one update may count (optional)', { id: 'task-form.max-samples' }),
              this.number('aggregation.maxSamplesPerUpdate', { min: 1, step: 1, hint: msg('A participant with more counts as this many. Needed by secure aggregation without noise.', { id: 'task-form.max-samples-hint' }) }),
            )}
            ${this.field(issues, 'quantization', msg('Update encoding', { id: 'task-form.quantization' }), this.select('quantization', quantizations.map((q) => [q, q])))}
          </div>
        </fieldset>

        ${this.renderAggregation(issues)}

        ${this.renderPrivacy(issues)}
        ${this.adminToken
          ? nothing
          : html`<fieldset>
              <legend>${msg('Authorisation', { id: 'task-form.authorisation' })}</legend>
              ${this.field(
                issues,
                'adminToken',
                msg('Admin token of the server', { id: 'task-form.admin-token' }),
                html`<input
                  id="f-adminToken"
                  name="adminToken-input"
                  type="password"
                  autocomplete="off"
                  .value=${this.tokenInput}
                  aria-describedby="f-adminToken-errors"
                  aria-invalid=${issues('adminToken').length ? 'true' : 'false'}
                  @input=${this.handleToken}
                />`,
              )}
            </fieldset>`}
        <div class="row">
          <button type="submit" part="submit-button" ?disabled=${this.submitting}>${this.submitting ? msg('Creating…', { id: 'task-form.creating' }) : msg('Create task', { id: 'task-form.create' })}</button>
        </div>
      </form>
    `;
  }

  private renderSteps(issues: (path: string) => string[], dataType: DataType) {
    const types = dataType === 'image' ? imageSteps : tabularSteps;
    const columns = this.values['tabular.inputColumns'].split(',').map((c) => c.trim()).filter(Boolean);
    // A group with a legend rather than a heading: the form sits under any heading level of the page.
    return html`<fieldset class="steps">
      <legend>${msg('Preprocessing, in order', { id: 'task-form.preprocessing' })}</legend>
      ${issues('preprocessing').map((i) => html`<p class="error">${i}</p>`)}
      ${this.steps.map((step, i) => {
        const p = (key: string) => `preprocessing.${i}.${key}`;
        const input = (key: keyof StepDraft, label: string, hint?: string) =>
          this.field(
            issues,
            p(key),
            label,
            html`<input id="${idOf(p(key))}" name=${p(key)} .value=${step[key]} @input=${this.handleStepInput}
              aria-describedby="${idOf(p(key))}-errors" aria-invalid=${issues(p(key)).length ? 'true' : 'false'} />`,
            undefined,
            hint,
          );
        return html`<div class="step" role="group" aria-label=${msg(str`Step ${i + 1}`, { id: 'task-form.step' })}>
          ${this.field(
            issues,
            p('type'),
            msg(str`Step ${i + 1}`, { id: 'task-form.step' }),
            html`<select id="${idOf(p('type'))}" name=${p('type')} @change=${this.handleStepInput}>
              ${types.map((t) => html`<option value=${t} ?selected=${t === step.type}>${stepLabels[t]}</option>`)}
            </select>`,
          )}
          ${'column' in stepShape(step.type)
            ? this.field(
                issues,
                p('column'),
                msg('Column', { id: 'task-form.column' }),
                html`<select id="${idOf(p('column'))}" name=${p('column')} @change=${this.handleStepInput}
                  aria-invalid=${issues(p('column')).length ? 'true' : 'false'} aria-describedby="${idOf(p('column'))}-errors">
                  <option value="" ?selected=${step.column === ''}>${msg('Choose…', { id: 'task-form.choose' })}</option>
                  ${[...new Set([...columns, ...(step.column ? [step.column] : [])])].map((c) => html`<option value=${c} ?selected=${c === step.column}>${c}</option>`)}
                </select>`,
              )
            : nothing}
          ${step.type === 'fill-missing' ? input('value', msg('Value', { id: 'task-form.value' })) : nothing}
          ${step.type === 'one-hot' ? input('categories', msg('Categories', { id: 'task-form.categories' }), msg('Comma-separated.', { id: 'task-form.comma-separated' })) : nothing}
          ${step.type === 'standardize' ? html`${input('mean', msg('Mean', { id: 'task-form.mean' }))} ${input('std', msg('Standard deviation', { id: 'task-form.std' }))}` : nothing}
          ${step.type === 'min-max' ? html`${input('min', msg('Minimum', { id: 'task-form.minimum' }))} ${input('max', msg('Maximum', { id: 'task-form.maximum' }))}` : nothing}
          <button type="button" class="danger" data-index=${i} @click=${this.handleRemoveStep}>${msg(str`Remove step ${i + 1}`, { id: 'task-form.remove-step' })}</button>
        </div>`;
      })}
      <button type="button" class="secondary" @click=${this.handleAddStep}>${msg('Add a step', { id: 'task-form.add-step' })}</button>
    </fieldset>`;
  }

  /**
   * The aggregation settings: the strategy (those the privacy settings refuse disabled, with core's reason), its
   * parameter as the strategy reads it, bucketing (robust strategies), the server optimizer (federated tasks) and
   * the rounds a silent participant is waited for (federated tasks). Only the settings the choices read are shown
   * and sent (`aggregationOf`).
   */
  private renderAggregation(issues: (path: string) => string[]) {
    const v = this.values;
    const draft = this.draft;
    const aggregation = draft.aggregation ?? {};
    const strategy = v['aggregation.strategy'] as AggregationStrategyName;
    const refused = new Map(
      aggregationStrategies
        .filter((s) => s !== strategy)
        .map((s) => [s, refusalsOf(draft, { aggregation: { ...aggregation, strategy: s, bucketing: undefined, parameter: undefined } }, 'aggregation.strategy')] as const)
        .filter(([, reasons]) => reasons.length > 0),
    );
    const bucketingRefused = strategy === 'fedavg' ? refusalsOf(draft, { aggregation: { ...aggregation, bucketing: { size: 2 } } }, 'aggregation.bucketing') : [];
    const federated = v.scheme === 'federated';
    const optimizerRefused = federated ? [] : refusalsOf(draft, { aggregation: { ...aggregation, serverOptimizer: { name: 'momentum' } } }, 'aggregation.serverOptimizer');
    const optimizer = federated ? v['aggregation.serverOptimizer.name'] : '';
    const reads = (key: string) => (optimizerFields[optimizer] ?? []).includes(key);
    const adaptive = optimizer === 'adam' || optimizer === 'yogi';
    const o = (key: string) => `aggregation.serverOptimizer.${key}`;
    return html`<fieldset part="aggregation">
      <legend>${msg('Aggregation', { id: 'task-form.aggregation' })}</legend>
      <div class="grid">
        ${this.field(
          issues,
          'aggregation.strategy',
          msg('Strategy', { id: 'task-form.strategy' }),
          html`<select id="f-aggregation-strategy" name="aggregation.strategy"
              aria-describedby="f-aggregation-strategy-hint${refused.size ? ' f-aggregation-strategy-refused' : ''} f-aggregation-strategy-errors"
              aria-invalid=${this.invalid('aggregation.strategy')}>
              ${aggregationStrategies.map((s) => html`<option value=${s} ?selected=${s === strategy} ?disabled=${refused.has(s)}>${strategyLabels[s]}</option>`)}
            </select>
            <span class="hint" id="f-aggregation-strategy-hint">${strategyExplanations[strategy]}</span>
            ${refused.size
              ? html`<span class="hint" id="f-aggregation-strategy-refused"
                  >${msg(str`Not available: ${[...refused.values()].flat().join('; ')}`, { id: 'task-form.not-available' })}</span
                >`
              : nothing}`,
          'wide',
        )}
        ${parameterStrategies.includes(strategy)
          ? this.field(
              issues,
              'aggregation.parameter',
              parameterLabels[strategy as keyof typeof parameterLabels],
              this.number('aggregation.parameter', {
                min: 0,
                step: strategy === 'trimmed-mean' ? 0.05 : strategy === 'centered-clipping' ? 'any' : 1,
                max: strategy === 'trimmed-mean' ? 0.49 : undefined,
                hint: parameterHints[strategy as keyof typeof parameterHints],
              }),
            )
          : nothing}
        ${this.field(
          issues,
          'aggregation.bucketing.size',
          msg('Bucket size (optional)', { id: 'task-form.bucketing' }),
          this.number('aggregation.bucketing.size', {
            min: 2,
            max: 100,
            step: 1,
            disabled: bucketingRefused.length > 0,
            hint: bucketingRefused.length
              ? msg(str`Not available: ${bucketingRefused.join('; ')}`, { id: 'task-form.not-available' })
              : msg('The updates are shuffled and averaged in buckets of this size (2 to 100) before the strategy combines the bucket means; this helps when participants’ data differ. Empty: no buckets.', {
                  id: 'task-form.bucketing-hint',
                }),
          }),
        )}
        ${federated
          ? this.field(
              issues,
              'maxMissedRounds',
              msg('Rounds a silent participant is waited for (optional)', { id: 'task-form.max-missed' }),
              this.number('maxMissedRounds', {
                min: 1,
                max: 1000,
                step: 1,
                hint: msg(
                  str`A participant that stays connected but sends nothing in this many rounds in a row is no longer waited for, until it sends an update again. Default ${DEFAULT_MAX_MISSED_ROUNDS}.`,
                  { id: 'task-form.max-missed-hint' },
                ),
              }),
            )
          : nothing}
      </div>
      <div class="grid">
        ${this.field(
          issues,
          o('name'),
          msg('Server optimizer', { id: 'task-form.server-optimizer' }),
          html`<select id="f-aggregation-serverOptimizer-name" name=${o('name')} ?disabled=${!federated}
              aria-describedby="f-aggregation-serverOptimizer-name-hint f-aggregation-serverOptimizer-name-errors" aria-invalid=${this.invalid(o('name'))}>
              ${(['', ...serverOptimizers] as const).map((n) => html`<option value=${n} ?selected=${n === optimizer}>${optimizerLabels[n]}</option>`)}
            </select>
            <span class="hint" id="f-aggregation-serverOptimizer-name-hint"
              >${optimizerRefused.length
                ? msg(str`Not available: ${optimizerRefused.join('; ')}`, { id: 'task-form.not-available' })
                : msg('How the server moves the model by each round’s aggregate (the mean change).', { id: 'task-form.server-optimizer-hint' })}</span
            >`,
        )}
        ${reads('learningRate')
          ? this.field(
              issues,
              o('learningRate'),
              msg('Server learning rate η (optional)', { id: 'task-form.server-lr' }),
              this.number(o('learningRate'), {
                min: 0,
                max: 100,
                hint: msg(str`Above 0, at most 100. Default ${adaptive ? 0.01 : 1}.`, { id: 'task-form.server-lr-hint' }),
              }),
            )
          : nothing}
        ${reads('momentum')
          ? this.field(
              issues,
              o('momentum'),
              adaptive ? msg('β₁ (optional)', { id: 'task-form.beta-one' }) : msg('Momentum β (optional)', { id: 'task-form.momentum' }),
              this.number(o('momentum'), { min: 0, max: 0.999, step: 0.01, hint: msg('From 0 to below 1. Default 0.9.', { id: 'task-form.momentum-hint' }) }),
            )
          : nothing}
        ${reads('nesterov')
          ? this.field(
              issues,
              o('nesterov'),
              msg('Nesterov momentum', { id: 'task-form.nesterov' }),
              html`<input id="f-aggregation-serverOptimizer-nesterov" type="checkbox" name=${o('nesterov')} .checked=${v[o('nesterov')] === 'true'}
                aria-describedby="f-aggregation-serverOptimizer-nesterov-errors" aria-invalid=${this.invalid(o('nesterov'))} />`,
              'checkbox',
              msg('The model published is the look-ahead point that the momentum leads to.', { id: 'task-form.nesterov-hint' }),
            )
          : nothing}
        ${reads('beta2')
          ? this.field(issues, o('beta2'), msg('β₂ (optional)', { id: 'task-form.beta-two' }), this.number(o('beta2'), { min: 0, max: 0.999, step: 0.01, hint: msg('From 0 to below 1. Default 0.99.', { id: 'task-form.beta-two-hint' }) }))
          : nothing}
        ${reads('epsilon')
          ? this.field(
              issues,
              o('epsilon'),
              msg('Adaptivity floor τ (optional)', { id: 'task-form.tau' }),
              this.number(o('epsilon'), { min: 0, max: 1, hint: msg('Above 0, at most 1. Default 0.001.', { id: 'task-form.tau-hint' }) }),
            )
          : nothing}
      </div>
    </fieldset>`;
  }

  /**
   * Federated tasks: synchronous rounds or asynchronous versions (decision 0013), and the asynchronous settings
   * (K, the staleness bound, the weighting). A mode core refuses for the task as it stands is disabled with
   * core's reason; the form offers no mode outside federated tasks, which the schema refuses.
   */
  private renderMode(issues: (path: string) => string[]) {
    const v = this.values;
    // Core refuses a mode at `mode` (the scheme) or at the privacy setting it cannot be combined with (secure aggregation, sampling).
    const refusals = (m: TrainingMode) => [...refusalsOf(this.draft, { mode: m }, 'mode'), ...refusalsOf(this.draft, { mode: m }, 'privacy')];
    const refused = new Map(trainingModes.map((m) => [m, m === v.mode ? [] : refusals(m)]));
    const reasons = [...refused.values()].flat();
    const asynchronous = v.mode === 'async';
    return html`${this.field(
      issues,
      'mode',
      msg('Training mode', { id: 'task-form.mode' }),
      html`<select id="f-mode" name="mode" aria-describedby="f-mode-hint f-mode-errors" aria-invalid=${this.invalid('mode')}>
          ${trainingModes.map((m) => html`<option value=${m} ?selected=${m === v.mode} ?disabled=${refused.get(m)!.length > 0}>${modeLabels[m]}</option>`)}
        </select>
        <span class="hint" id="f-mode-hint"
          >${modeExplanations[v.mode as TrainingMode] ?? ''}${reasons.length ? html` ${msg(str`Not available: ${reasons.join('; ')}`, { id: 'task-form.not-available' })}` : nothing}</span
        >`,
    )}
    ${asynchronous
      ? html`${this.field(
          issues,
          'async.bufferSize',
          msg('Updates per version K', { id: 'task-form.buffer-size' }),
          this.number('async.bufferSize', { min: 1, max: 1000, step: 1, hint: msg(str`A new version is aggregated from every K accepted updates; 1 to 1000. Default ${schemaDefaults.async.bufferSize}.`, { id: 'task-form.buffer-size-hint' }) }),
        )}
        ${this.field(
          issues,
          'async.maxStaleness',
          msg('Most versions an update may lag', { id: 'task-form.max-staleness' }),
          this.number('async.maxStaleness', {
            min: 0,
            max: 1000,
            step: 1,
            hint: msg(str`An update trained from a version older than this is refused; 0 to 1000. Default ${schemaDefaults.async.maxStaleness}.`, { id: 'task-form.max-staleness-hint' }),
          }),
        )}
        ${this.field(
          issues,
          'async.stalenessWeighting',
          msg('Weight of an older update', { id: 'task-form.weighting' }),
          this.select('async.stalenessWeighting', stalenessWeightings.map((w) => [w, weightingLabels[w]])),
          undefined,
          msg('s is how many versions old the update’s starting model is.', { id: 'task-form.weighting-hint' }),
        )}
        ${v['async.stalenessWeighting'] === 'polynomial'
          ? this.field(
              issues,
              'async.stalenessExponent',
              msg('Exponent a', { id: 'task-form.staleness-exponent' }),
              this.number('async.stalenessExponent', {
                min: 0,
                max: 4,
                step: 0.1,
                hint: msg(str`From 0 to 4. Default ${schemaDefaults.async.stalenessExponent}: weight 1/√(1 + s).`, { id: 'task-form.staleness-exponent-hint' }),
              }),
            )
          : nothing}`
      : nothing}`;
  }

  /** The preset the values match, or `custom` (also when the user chose "Custom"). */
  private get preset(): PrivacyPreset | 'custom' {
    if (this.customPrivacy) return 'custom';
    const privacy = privacySettings.safeParse(privacyOf(this.values));
    return privacy.success ? presetOf(privacy.data, defaultDelta) : 'custom';
  }

  /**
   * The privacy presets, the custom fields, and the statement participants will read (`describePrivacy`, as
   * `<disco-task>` shows it) for the settings chosen.
   */
  private renderPrivacy(issues: (path: string) => string[]) {
    const draft = this.draft;
    const preset = this.preset;
    const secureRefusal = this.secureAggregationRefusal;
    const secureOn = this.values['privacy.secureAggregation'] === 'true';
    const privacyFields = ['privacy.secureAggregation', 'privacy.clippingNorm', 'privacy.noiseMultiplier', 'privacy.samplingRate', 'privacy.delta', 'privacy.budget.epsilon'];
    const showFields = preset === 'custom' || privacyFields.some((f) => issues(f).length > 0);
    const rounds = Number(this.values['training.rounds']) || 0;
    const descriptions: Record<PrivacyPreset | 'custom', string> = {
      none:
        this.values.scheme === 'decentralized'
          ? msg('Model changes are sent as they are: the other participants see each one. No noise.', { id: 'task-form.preset-none-peers' })
          : msg('Model changes are sent as they are: the server sees each one. No noise.', { id: 'task-form.preset-none-server' }),
      secure: msg('Whoever aggregates sees only the sum of the participants’ model changes, never one alone. Each change is clipped to size 1 on its device; a round needs at least 3 participants.', {
        id: 'task-form.preset-secure',
      }),
      'secure-dp': [
        msg(str`Secure aggregation, plus random noise that each participant adds before masking; training stops before ε would exceed 8 (δ = ${defaultDelta}).`, { id: 'task-form.preset-secure-dp' }),
        ...(rounds > 0
          ? [msg(str`Of this task’s ${rounds} rounds, ${roundsWithinBudget(privacyPresets['secure-dp'].privacy, rounds)} fit in that budget.`, { id: 'task-form.preset-rounds' })]
          : []),
        msg('The noise costs accuracy, the less the more participants there are.', { id: 'task-form.preset-noise-cost' }),
      ].join(' '),
      custom: msg('Every privacy setting by hand.', { id: 'task-form.preset-custom' }),
    };
    return html`<fieldset part="privacy">
      <legend>${msg('Privacy', { id: 'task-form.privacy' })}</legend>
      <fieldset class="presets" part="presets">
        <legend class="visually-hidden">${msg('Privacy preset', { id: 'task-form.privacy-preset' })}</legend>
        ${([...(Object.keys(privacyPresets) as PrivacyPreset[]), 'custom'] as const).map((p) => {
          const refused = p === 'custom' ? [] : [...presetIssues(draft, p), ...(secureRefusal && privacyPresets[p].privacy.secureAggregation ? [secureRefusal] : [])];
          const id = `preset-${p}`;
          return html`<label>
            <input type="radio" name="privacy-preset" value=${p} .checked=${preset === p} ?disabled=${refused.length > 0 && preset !== p}
              aria-describedby="${id}-description${refused.length ? ` ${id}-refused` : ''}" @change=${this.handlePreset} />
            <span
              ><strong>${p === 'custom' ? msg('Custom', { id: 'task-form.custom' }) : privacyPresets[p].label}</strong> – <span id="${id}-description">${descriptions[p]}</span>
              ${refused.length ? html`<span class="hint" id="${id}-refused">${msg(str`Not available: ${refused.join('; ')}`, { id: 'task-form.not-available' })}</span>` : nothing}</span
            >
          </label>`;
        })}
      </fieldset>
      ${showFields
        ? html`<div class="grid">
            ${this.field(
              issues,
              'privacy.secureAggregation',
              msg('Secure aggregation', { id: 'task-form.secure' }),
              html`<input id="f-privacy-secureAggregation" type="checkbox" name="privacy.secureAggregation" .checked=${secureOn} ?disabled=${secureRefusal !== undefined && !secureOn}
                aria-describedby="f-privacy-secureAggregation-errors${secureRefusal ? ' f-privacy-secureAggregation-note' : ''}" aria-invalid=${this.invalid('privacy.secureAggregation')} />`,
              'checkbox',
              secureRefusal && msg(str`Not available: ${secureRefusal}`, { id: 'task-form.not-available' }),
            )}
            ${this.field(issues, 'privacy.clippingNorm', msg('Clipping norm C (optional)', { id: 'task-form.clipping-norm' }), this.number('privacy.clippingNorm', { min: 0, step: 0.1, hint: msg('Each model change is scaled down to this size (L2 norm).', { id: 'task-form.clipping-norm-hint' }) }))}
            ${this.field(issues, 'privacy.noiseMultiplier', msg('Noise multiplier z (optional)', { id: 'task-form.noise' }), this.number('privacy.noiseMultiplier', { min: 0, step: 0.1, hint: msg('Gaussian noise of standard deviation z × C on the sum.', { id: 'task-form.noise-hint' }) }))}
            ${this.field(issues, 'privacy.samplingRate', msg('Sampling rate q (optional)', { id: 'task-form.sampling' }), this.number('privacy.samplingRate', { min: 0, max: 1, step: 0.05, hint: msg('Each participant takes part in a round with this probability (federated).', { id: 'task-form.sampling-hint' }) }))}
            ${this.field(issues, 'privacy.delta', 'δ', this.number('privacy.delta', { min: 0, max: 1, step: 0.00001, hint: msg('ε is reported at this δ.', { id: 'task-form.delta-hint' }) }))}
            ${this.field(issues, 'privacy.budget.epsilon', msg('Privacy budget ε (optional)', { id: 'task-form.budget' }), this.number('privacy.budget.epsilon', { min: 0, step: 0.5, hint: msg('Training stops before ε would exceed it.', { id: 'task-form.budget-hint' }) }))}
          </div>`
        : nothing}
      ${this.renderStatement()}
    </fieldset>`;
  }

  /**
   * What `<disco-task>` will tell participants, for the settings as they stand; nothing while the settings it
   * depends on have problems (the statement would describe a task the server refuses).
   */
  private renderStatement() {
    const privacy = privacySettings.safeParse(privacyOf(this.values));
    const typed = this.values.minParticipants.trim();
    const minParticipants = typed === '' ? schemaDefaults.minParticipants : Number(typed);
    const concerned = ['privacy', 'minParticipants', 'aggregation', 'scheme'];
    const problems = [...this.renderedIssues.keys()].some((field) => concerned.some((c) => field === c || field.startsWith(`${c}.`)));
    if (!privacy.success || !Number.isInteger(minParticipants) || problems) return nothing;
    const max = Number(this.values['aggregation.maxSamplesPerUpdate']);
    const statement = describePrivacy({
      ...schemaDefaults,
      scheme: this.values.scheme as Task['scheme'],
      minParticipants,
      aggregation: { ...schemaDefaults.aggregation, ...(Number.isInteger(max) && max > 0 && { maxSamplesPerUpdate: max }) },
      privacy: privacy.data,
    });
    return html`<div part="privacy-statement" class="statement">
      <p class="muted">${msg('What participants will be told:', { id: 'task-form.told' })}</p>
      <ul>
        <li>${statement.leavesDevice}</li>
        ${statement.enforced.map((s) => html`<li>${s.text}</li>`)}
        ${statement.notProtected.map((s) => html`<li>${s}</li>`)}
      </ul>
    </div>`;
  }

  /** A labelled field with its hint and its errors, announced and linked to the control. */
  private field(issues: (path: string) => string[], path: string, label: string, control: TemplateResult, variant?: 'wide' | 'checkbox', hint?: string) {
    const id = idOf(path);
    const errors = issues(path);
    return html`<div class="field ${variant ?? ''}">
      ${variant === 'checkbox' ? html`${control}<label for=${id}>${label}</label>` : html`<label for=${id}>${label}</label>${control}`}
      ${hint ? html`<span class="hint" id="${id}-note">${hint}</span>` : nothing}
      <span class="error" id="${id}-errors">${errors.join('\n')}</span>
    </div>`;
  }


  private text(path: string, options: { hint?: string; required?: boolean } = {}) {
    const id = idOf(path);
    return html`<input id=${id} name=${path} type="text" .value=${this.values[path] ?? ''} ?required=${options.required}
        aria-describedby="${options.hint ? `${id}-hint ` : ''}${id}-errors" aria-invalid=${this.invalid(path)} />
      ${options.hint ? html`<span class="hint" id="${id}-hint">${options.hint}</span>` : nothing}`;
  }

  private number(path: string, options: { min?: number; max?: number; step?: number | 'any'; hint?: string; disabled?: boolean } = {}) {
    const id = idOf(path);
    return html`<input id=${id} name=${path} type="number" inputmode="decimal" .value=${this.values[path] ?? ''} ?disabled=${options.disabled}
        min=${options.min ?? nothing} max=${options.max ?? nothing} step=${options.step ?? 'any'}
        aria-describedby="${options.hint ? `${id}-hint ` : ''}${id}-errors" aria-invalid=${this.invalid(path)} />
      ${options.hint ? html`<span class="hint" id="${id}-hint">${options.hint}</span>` : nothing}`;
  }

  private textarea(path: string, rows: number) {
    const id = idOf(path);
    return html`<textarea id=${id} name=${path} rows=${rows} .value=${this.values[path] ?? ''} aria-describedby="${id}-errors" aria-invalid=${this.invalid(path)}></textarea>`;
  }

  private select(path: string, options: [string, string][]) {
    const id = idOf(path);
    return html`<select id=${id} name=${path} aria-describedby="${id}-errors" aria-invalid=${this.invalid(path)}>
      ${options.map(([value, label]) => html`<option value=${value} ?selected=${this.values[path] === value}>${label}</option>`)}
    </select>`;
  }

  private invalid(path: string): 'true' | 'false' {
    const shown = this.submitted || this.touched.has(path);
    return (shown && this.renderedIssues.has(path)) || this.serverIssues.has(path) ? 'true' : 'false';
  }
}

/** The id of a field's control. */
function idOf(path: string): string {
  return `f-${path.replace(/\./g, '-')}`;
}

/** The fields a step type carries (only whether it has a column matters here). */
function stepShape(type: PreprocessingStep['type']): object {
  return type === 'resize' || type === 'scale-pixels' ? {} : { column: '' };
}

/** The weight files in the order of the manifest's paths (the order TF.js concatenates them in). */
function orderWeightFiles(modelJson: object, files: File[]): File[] {
  const manifest = (modelJson as { weightsManifest?: { paths?: string[] }[] }).weightsManifest ?? [];
  const paths = manifest.flatMap((group) => group.paths ?? []).map((p) => p.split('/').pop()!);
  if (paths.length === 0) return files;
  return paths.map((name) => {
    const file = files.find((f) => f.name === name);
    if (!file) throw new Error(msg(str`model.json names the weights file "${name}", which was not chosen`, { id: 'task-form.upload-missing' }));
    return file;
  });
}
