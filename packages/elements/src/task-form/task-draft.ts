import {
  firstRoundBudgetIssue,
  parseTask,
  taskCreationIssues,
  privacySettings,
  unenforcedSettings,
  validateTask,
  type DerivingStep,
  type PreprocessingStep,
  type PrivacySettings,
  type TaskInput,
} from '@disco/core';

/** The form's values, by the dotted path of the task field they fill (`training.batchSize`), as typed. */
export type DraftValues = Record<string, string>;

/** One preprocessing step as typed in the form (which does not offer the steps that derive columns). */
export interface StepDraft {
  type: Exclude<PreprocessingStep, DerivingStep>['type'];
  column: string;
  value: string;
  categories: string;
  mean: string;
  std: string;
  min: string;
  max: string;
}

/** A minimal valid task. */
const minimalTask: TaskInput = {
  id: 'defaults',
  title: 'defaults',
  description: '',
  dataType: 'tabular',
  tabular: { inputColumns: ['x'], outputColumn: 'y', labels: ['0', '1'] },
  model: { source: 'builtin', architecture: 'tabular-mlp' },
};

/** The schema's defaults, read from core's task schema itself (a minimal task, parsed). */
export const schemaDefaults = parseTask(minimalTask);

/** The defaults of a text task's settings (the context length, the gpt architecture's size and dropout), from the schema too. */
export const textDefaults = (() => {
  const task = parseTask({ ...minimalTask, dataType: 'text', tabular: undefined, text: {}, model: { source: 'builtin', architecture: 'gpt', gpt: {} } });
  const model = task.model as Extract<typeof task.model, { source: 'builtin' }>;
  return { contextLength: task.text!.contextLength, size: model.gpt!.size, dropout: model.gpt!.dropout };
})();

/**
 * Core's reasons (`taskCreationIssues`, as a server refuses) against changing `task` by `change`, at the field
 * `path` or under it: judged on a minimal valid task with `task`'s scheme, minimum of participants, privacy and
 * aggregation, so that they show before the rest of the form is filled. Only the reasons the change brings.
 * @example refusalsOf(secureTask, { aggregation: { strategy: 'median' } }, 'aggregation.strategy')
 * // ['"median" needs each update on its own, which secure aggregation hides; use "fedavg"']
 */
export function refusalsOf(task: TaskInput, change: Partial<TaskInput>, path: string): string[] {
  const base: TaskInput = { ...minimalTask, scheme: task.scheme, minParticipants: task.minParticipants, privacy: task.privacy, aggregation: task.aggregation };
  const at = (t: TaskInput) => {
    const result = taskCreationIssues(t, false);
    return result.ok ? [] : result.errors.filter((e) => e.startsWith(`${path}: `) || e.startsWith(`${path}.`));
  };
  const before = new Set(at(base));
  return at({ ...base, ...change })
    .filter((e) => !before.has(e))
    .map((e) => e.slice(e.indexOf(': ') + 2));
}

/** The δ a task reports ε at when it sets none (the schema's default). */
export const defaultDelta = schemaDefaults.privacy.delta;

/** The values a new form starts with: the schema's defaults, empty texts. */
export function initialValues(): DraftValues {
  const d = schemaDefaults;
  return {
    id: '',
    title: '',
    description: '',
    dataFormat: '',
    sample: '',
    dataType: 'tabular',
    'tabular.inputColumns': '',
    'tabular.outputColumn': '',
    'tabular.labels': '',
    'image.width': '28',
    'image.height': '28',
    'image.channels': '1',
    'image.labels': '',
    'model.source': 'builtin',
    'model.architecture': 'tabular-mlp',
    'model.hiddenUnits': '',
    'text.contextLength': String(textDefaults.contextLength),
    'model.gpt.size': textDefaults.size,
    'model.gpt.dropout': String(textDefaults.dropout),
    ...Object.fromEntries(Object.entries(d.training).map(([k, v]) => [`training.${k}`, String(v)])),
    scheme: d.scheme,
    mode: d.mode,
    'async.bufferSize': String(d.async.bufferSize),
    'async.maxStaleness': String(d.async.maxStaleness),
    'async.stalenessWeighting': d.async.stalenessWeighting,
    'async.stalenessExponent': String(d.async.stalenessExponent),
    minParticipants: String(d.minParticipants),
    roundDeadlineSeconds: String(d.roundDeadlineSeconds),
    'aggregation.strategy': d.aggregation.strategy,
    'aggregation.parameter': '',
    'aggregation.bucketing.size': '',
    'aggregation.serverOptimizer.name': '',
    'aggregation.serverOptimizer.learningRate': '',
    'aggregation.serverOptimizer.momentum': '',
    'aggregation.serverOptimizer.nesterov': 'false',
    'aggregation.serverOptimizer.beta2': '',
    'aggregation.serverOptimizer.epsilon': '',
    'aggregation.maxSamplesPerUpdate': '',
    maxMissedRounds: '',
    quantization: d.quantization,
    ...privacyValues(d.privacy),
  };
}

/** Privacy settings → form values (the δ field shows the default δ when none is set). */
export function privacyValues(p: Partial<PrivacySettings>): DraftValues {
  const text = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    'privacy.secureAggregation': String(p.secureAggregation ?? false),
    'privacy.clippingNorm': text(p.clippingNorm),
    'privacy.noiseMultiplier': text(p.noiseMultiplier),
    'privacy.samplingRate': text(p.samplingRate),
    'privacy.delta': text(p.delta ?? defaultDelta),
    'privacy.budget.epsilon': text(p.budget?.epsilon),
  };
}

/** An empty number stays out (the schema's default applies); anything else becomes a number (maybe NaN, which the schema reports). */
const num = (text: string | undefined) => (text === undefined || text.trim() === '' ? undefined : Number(text));
const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The strategies that read `aggregation.parameter` (the others ignore it: the form does not offer it to them). */
export const parameterStrategies: readonly string[] = ['trimmed-mean', 'krum', 'multi-krum', 'centered-clipping'];

/** The server optimizer's settings each optimizer reads (the schema refuses the others). */
export const optimizerFields: Record<string, readonly string[]> = {
  sgd: ['learningRate'],
  momentum: ['learningRate', 'momentum', 'nesterov'],
  adam: ['learningRate', 'momentum', 'beta2', 'epsilon'],
  yogi: ['learningRate', 'momentum', 'beta2', 'epsilon'],
};

/**
 * The aggregation settings the values describe, as typed, keeping only what the chosen strategy, optimizer and
 * scheme read: no parameter for FedAvg or the median, no bucketing with FedAvg, no server optimizer outside
 * federated tasks, only the optimizer's own settings (the form shows no other field, so none can be refused).
 */
export function aggregationOf(v: DraftValues): TaskInput['aggregation'] {
  const strategy = v['aggregation.strategy'];
  const name = v.scheme === 'federated' ? v['aggregation.serverOptimizer.name'] : '';
  const reads = (key: string) => (optimizerFields[name] ?? []).includes(key);
  const opt = (key: string) => (reads(key) ? num(v[`aggregation.serverOptimizer.${key}`]) : undefined);
  const size = strategy === 'fedavg' ? undefined : num(v['aggregation.bucketing.size']);
  return defined({
    strategy: strategy as 'fedavg',
    parameter: parameterStrategies.includes(strategy) ? num(v['aggregation.parameter']) : undefined,
    bucketing: size === undefined ? undefined : { size },
    serverOptimizer: name
      ? defined({
          name: name as 'sgd',
          learningRate: opt('learningRate'),
          momentum: opt('momentum'),
          nesterov: reads('nesterov') && v['aggregation.serverOptimizer.nesterov'] === 'true' ? true : undefined,
          beta2: opt('beta2'),
          epsilon: opt('epsilon'),
        })
      : undefined,
    maxSamplesPerUpdate: num(v['aggregation.maxSamplesPerUpdate']),
  });
}

/** The privacy settings the values describe (as typed: the schema checks them). */
export function privacyOf(v: DraftValues): TaskInput['privacy'] {
  const epsilon = num(v['privacy.budget.epsilon']);
  return defined({
    secureAggregation: v['privacy.secureAggregation'] === 'true',
    clippingNorm: num(v['privacy.clippingNorm']),
    noiseMultiplier: num(v['privacy.noiseMultiplier']),
    samplingRate: num(v['privacy.samplingRate']),
    delta: num(v['privacy.delta']),
    budget: epsilon === undefined ? undefined : { epsilon },
  });
}

/**
 * Every problem a server would find in a task as it is created, as far as the form can tell before sending it:
 * core's `validateTask`, then (when the privacy settings parse) what this build does not enforce and a budget
 * that the first round would exceed, with core's own messages (`taskCreationIssues` gives these only once the
 * whole task is valid; the form wants them while it is filled), and once it is valid, `taskCreationIssues`
 * itself (a server optimizer the scheme does not apply, a strategy this build lacks). The upload is checked
 * apart: the model source is taken as matching it.
 */
export function draftIssues(input: TaskInput): string[] {
  const check = validateTask(input);
  const issues = check.ok ? [] : [...check.errors];
  if (check.ok) {
    const created = taskCreationIssues(input, input.model?.source === 'tfjs');
    if (!created.ok) issues.push(...created.errors);
  }
  const privacy = privacySettings.safeParse(input.privacy ?? {});
  if (privacy.success) {
    issues.push(...unenforcedSettings({ privacy: privacy.data }));
    const budget = firstRoundBudgetIssue({ privacy: privacy.data });
    if (budget) issues.push(budget);
  }
  return [...new Set(issues)];
}

function stepOf(s: StepDraft): PreprocessingStep {
  switch (s.type) {
    case 'fill-missing':
      return { type: s.type, column: s.column, value: s.value.trim() !== '' && !Number.isNaN(Number(s.value)) ? Number(s.value) : s.value };
    case 'one-hot':
      return { type: s.type, column: s.column, categories: list(s.categories) };
    case 'standardize':
      return { type: s.type, column: s.column, mean: num(s.mean) as number, std: num(s.std) as number };
    case 'min-max':
      return { type: s.type, column: s.column, min: num(s.min) as number, max: num(s.max) as number };
    case 'log1p':
      return { type: s.type, column: s.column };
    case 'resize':
    case 'scale-pixels':
      return { type: s.type };
  }
}

/** The form's values → the task they describe, for core's `validateTask` and the API. */
export function toTaskInput(v: DraftValues, steps: StepDraft[]): TaskInput {
  const dataType = v.dataType as TaskInput['dataType'];
  const builtin = v['model.source'] === 'builtin';
  const hiddenUnits = list(v['model.hiddenUnits']).map(Number);
  const gpt = builtin && v['model.architecture'] === 'gpt';
  // Only federated tasks may train asynchronously (the schema refuses `mode` elsewhere): the form offers it there only.
  const mode = v.scheme === 'federated' ? (v.mode as TaskInput['mode']) : undefined;
  return defined({
    id: v.id.trim(),
    title: v.title,
    description: v.description,
    dataFormat: v.dataFormat,
    sample: v.sample?.trim() ? v.sample : undefined,
    dataType,
    tabular:
      dataType === 'tabular'
        ? { inputColumns: list(v['tabular.inputColumns']), outputColumn: v['tabular.outputColumn'].trim(), labels: list(v['tabular.labels']) }
        : undefined,
    image:
      dataType === 'image'
        ? {
            width: num(v['image.width']) as number,
            height: num(v['image.height']) as number,
            channels: Number(v['image.channels']) as 1 | 3,
            labels: list(v['image.labels']),
          }
        : undefined,
    text: dataType === 'text' ? defined({ contextLength: num(v['text.contextLength']) }) : undefined,
    preprocessing: steps.map(stepOf),
    model: builtin
      ? defined({
          source: 'builtin' as const,
          architecture: v['model.architecture'] as 'tabular-mlp',
          hiddenUnits: hiddenUnits.length && !gpt ? hiddenUnits : undefined,
          gpt: gpt ? defined({ size: v['model.gpt.size'] as 'nano', dropout: num(v['model.gpt.dropout']) }) : undefined,
        })
      : { source: 'tfjs' as const },
    training: defined({
      epochsPerRound: num(v['training.epochsPerRound']),
      rounds: num(v['training.rounds']),
      batchSize: num(v['training.batchSize']),
      validationSplit: num(v['training.validationSplit']),
      optimizer: v['training.optimizer'] as 'adam',
      learningRate: num(v['training.learningRate']),
      seed: num(v['training.seed']),
    }),
    scheme: v.scheme as TaskInput['scheme'],
    mode,
    async:
      mode === 'async'
        ? defined({
            bufferSize: num(v['async.bufferSize']),
            maxStaleness: num(v['async.maxStaleness']),
            stalenessWeighting: v['async.stalenessWeighting'] as 'polynomial',
            stalenessExponent: v['async.stalenessWeighting'] === 'polynomial' ? num(v['async.stalenessExponent']) : undefined,
          })
        : undefined,
    minParticipants: num(v.minParticipants),
    roundDeadlineSeconds: num(v.roundDeadlineSeconds),
    maxMissedRounds: v.scheme === 'federated' ? num(v.maxMissedRounds) : undefined,
    aggregation: aggregationOf(v),
    privacy: privacyOf(v),
    quantization: v.quantization as TaskInput['quantization'],
  });
}

/**
 * Assigns `path: reason` issues (core's `validateTask`, the API's refusals) to the form's fields: the
 * field of that path, else the first field under it (`tabular` → `tabular.inputColumns`), else the
 * nearest field above it (`preprocessing.2.column` → `preprocessing.2.column` when listed, or
 * `preprocessing`). `aliases` sends other paths to a field (`weights.bin` → `model`, keeping the path in the
 * message). What matches no field is returned under `''`, for the form's summary.
 */
export function issuesByField(issues: readonly string[], fields: readonly string[], aliases: Record<string, string> = {}): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (field: string, reason: string) => out.set(field, [...(out.get(field) ?? []), reason]);
  for (const issue of issues) {
    const at = issue.indexOf(': ');
    const written = at > 0 ? issue.slice(0, at) : '';
    const alias = Object.keys(aliases).find((a) => written === a || written.startsWith(`${a} `) || written.startsWith(`${a}[`));
    const path = alias ? aliases[alias] : written;
    const reason = at > 0 ? (alias ? `${written}: ${issue.slice(at + 2)}` : issue.slice(at + 2)) : issue;
    if (fields.includes(path)) add(path, reason);
    else {
      const under = fields.find((f) => f.startsWith(`${path}.`));
      const above = [...fields].sort((a, b) => b.length - a.length).find((f) => path.startsWith(`${f}.`));
      const field = path && path !== '(task)' ? (under ?? above) : undefined;
      add(field ?? '', field ? reason : issue);
    }
  }
  return out;
}
