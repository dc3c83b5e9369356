import { z } from 'zod';

/**
 * The task definition: the single source of truth for the API, the elements and the CLI.
 * Every other package validates tasks with {@link parseTask} / {@link validateTask}.
 */

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit');

/** Markdown or plain text. Raw HTML is refused so that no embedder ever renders a task's script. */
const markdown = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !/<\s*\/?\s*[a-zA-Z!?][^>]*>/.test(s), 'raw HTML is not allowed; use markdown');

/** The kinds of data this build can load and train on. */
export const dataTypes = ['tabular', 'image', 'text'] as const;
export type DataType = (typeof dataTypes)[number];

export const schemes = ['local', 'federated', 'decentralized'] as const;
export type Scheme = (typeof schemes)[number];

export const builtinArchitectures = ['tabular-mlp', 'mnist-cnn', 'cifar10-cnn', 'image-mlp', 'gpt'] as const;
export type BuiltinArchitecture = (typeof builtinArchitectures)[number];

/** The strategies this build implements (`@disco/core`'s `createStrategy`). */
export const aggregationStrategies = ['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum', 'centered-clipping'] as const;
export type AggregationStrategyName = (typeof aggregationStrategies)[number];

/** Server optimizers (FedOpt, Reddi et al. 2021): `sgd` with learning rate 1 is plain FedAvg. */
export const serverOptimizers = ['sgd', 'momentum', 'adam', 'yogi'] as const;
export type ServerOptimizerName = (typeof serverOptimizers)[number];

/** How the global model moves by the round's aggregate delta (`@disco/core`'s `applyServerOptimizer`). */
const serverOptimizerSettings = z.object({
  name: z.enum(serverOptimizers),
  /** η; default 1 for sgd and momentum, 0.01 for adam and yogi. */
  learningRate: z.number().positive().max(100).optional(),
  /** β (momentum) or β₁ (adam, yogi); default 0.9. */
  momentum: z.number().min(0).lt(1, 'must be below 1').optional(),
  /** β₂ (adam, yogi); default 0.99. */
  beta2: z.number().min(0).lt(1, 'must be below 1').optional(),
  /** τ, the adaptivity floor (adam, yogi); default 0.001. */
  epsilon: z.number().positive().max(1).optional(),
  /** Nesterov momentum (momentum only): the version published is the look-ahead point; default false. */
  nesterov: z.boolean().optional(),
});

/**
 * The named sizes of the `gpt` architecture (a decoder-only transformer, `@disco/core`'s `GPT_SIZES`), from
 * `nano` (3 layers, 3 heads, 48 dimensions) to the GPT-2 small shape (`gpt2`: 12 layers, 12 heads, 768).
 */
export const gptSizes = ['nano', 'micro', 'mini', 'gpt2'] as const;
export type GptSize = (typeof gptSizes)[number];

/** How asynchronous rounds weigh an update computed from a model `s` versions old (FedBuff, decision 0013). */
export const stalenessWeightings = ['polynomial', 'constant'] as const;
export type StalenessWeighting = (typeof stalenessWeightings)[number];

export const trainingModes = ['sync', 'async'] as const;
export type TrainingMode = (typeof trainingModes)[number];

export const quantizations = ['float32', 'float16', 'int8'] as const;
export type Quantization = (typeof quantizations)[number];

const tabularSpec = z.object({
  /** Columns the model reads, in order. Each must be present in the CSV header. */
  inputColumns: z.array(z.string().min(1)).min(1),
  /** The column holding the label. Required for training and evaluation, absent for prediction. */
  outputColumn: z.string().min(1),
  /** The label values as they appear in the CSV, in class-index order. */
  labels: z.array(z.string()).min(2),
});

/** Text for a language model: GPT-2 BPE tokens, cut into windows of `contextLength` tokens with next-token targets. */
const textSpec = z.object({
  /** The GPT-2 byte-pair encoding (r50k_base, 50,257 tokens). */
  tokenizer: z.enum(['gpt2']).default('gpt2'),
  /** Tokens the model reads at once (its context): both the training windows' length and the generation context. */
  contextLength: z.number().int().min(4).max(1024).default(128),
});

const imageSpec = z.object({
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  channels: z.union([z.literal(1), z.literal(3)]),
  labels: z.array(z.string().min(1)).min(2),
});

/** A regular expression's source, checked to compile; short, since it runs on every participant's rows. */
const pattern = z
  .string()
  .min(1)
  .max(200)
  .refine((source) => {
    try {
      new RegExp(source, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

/**
 * Preprocessing steps. Statistics are constants of the task so that every participant encodes alike.
 *
 * Tabular steps with a `column` transform that input column, in order. Steps with `from` and `into`
 * derive a new column from the raw text of the file's columns, before any other step and whatever their
 * place in the list; the derived column (`into`) is then listed in `tabular.inputColumns` like any
 * other, and its own steps (`fill-missing`, `one-hot`, `standardize`…) apply to it. A file must hold the
 * input columns that are not derived and every `from` column.
 */
export const preprocessingStep = z.discriminatedUnion('type', [
  z.object({ type: z.literal('fill-missing'), column: z.string(), value: z.union([z.number(), z.string()]) }),
  z.object({ type: z.literal('one-hot'), column: z.string(), categories: z.array(z.string()).min(1) }),
  z.object({ type: z.literal('standardize'), column: z.string(), mean: z.number(), std: z.number().positive() }),
  z.object({
    type: z.literal('min-max'),
    column: z.string(),
    min: z.number(),
    max: z.number(),
  }),
  z.object({ type: z.literal('log1p'), column: z.string() }),
  /**
   * Tabular: `into` is the text that `pattern` (a JavaScript regular expression, `u` flag) captures in
   * column `from`: its first group, or the whole match when it has none; empty when it does not match.
   * @example { type: 'extract', from: 'Name', pattern: ',\\s*(Mr|Mrs|Miss|Master)\\.', into: 'Title' } // "Allen, Miss. Elisabeth" → "Miss"
   */
  z.object({ type: z.literal('extract'), from: z.string().min(1), pattern, into: z.string().min(1) }),
  /**
   * Tabular: `into` is the sum of the numeric columns `from` (each value must be a number).
   * @example { type: 'sum', from: ['SibSp', 'Parch'], into: 'Relatives' } // 1 and 2 → 3
   */
  z.object({ type: z.literal('sum'), from: z.array(z.string().min(1)).min(1), into: z.string().min(1) }),
  /**
   * Tabular: `into` is 1 where column `from` is empty (or only spaces), 0 elsewhere.
   * @example { type: 'is-missing', from: 'Cabin', into: 'NoCabin' } // "" → 1, "B5" → 0
   */
  z.object({ type: z.literal('is-missing'), from: z.string().min(1), into: z.string().min(1) }),
  /** Image: resize every image to the task's width and height instead of refusing other sizes. */
  z.object({ type: z.literal('resize') }),
  /** Image: scale pixel values (0-255) to [0, 1]. */
  z.object({ type: z.literal('scale-pixels') }),
]);
export type PreprocessingStep = z.infer<typeof preprocessingStep>;
/** The steps that derive a column (`into`) from the file's columns (`from`). */
export type DerivingStep = Extract<PreprocessingStep, { into: string }>;

export const modelSource = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('builtin'),
    architecture: z.enum(builtinArchitectures),
    /** Hidden layer sizes for the MLP architectures. */
    hiddenUnits: z.array(z.number().int().min(1).max(4096)).max(8).optional(),
    /** The `gpt` architecture's shape: a named size and the dropout rate while training (0: none). */
    gpt: z
      .object({
        size: z.enum(gptSizes).default('nano'),
        dropout: z.number().min(0).max(0.9).default(0),
      })
      .optional(),
  }),
  /** A TF.js LayersModel (model.json + weights.bin) uploaded with the task and stored by the server. */
  z.object({ source: z.literal('tfjs') }),
]);
export type ModelSource = z.infer<typeof modelSource>;

export const trainingSettings = z.object({
  epochsPerRound: z.number().int().min(1).max(1000).default(1),
  rounds: z.number().int().min(1).max(10000).default(5),
  batchSize: z.number().int().min(1).max(4096).default(32),
  validationSplit: z.number().min(0).max(0.9).default(0.2),
  optimizer: z.enum(['adam', 'sgd', 'rmsprop']).default('adam'),
  learningRate: z.number().positive().max(10).default(0.001),
  /** Seed for the train/validation split and weight initialisation. */
  seed: z.number().int().default(42),
});
export type TrainingSettings = z.infer<typeof trainingSettings>;

export const privacySettings = z.object({
  /**
   * Secure aggregation (Bonawitz et al. 2017, decision 0010): the aggregator (the server, or a peer) sees only
   * masked updates and learns their sum. Needs `clippingNorm`, a FedAvg strategy and at least 3 participants.
   */
  secureAggregation: z.boolean().default(false),
  /** L2 norm each update is clipped to before leaving the device (and, without secure aggregation, by the server). */
  clippingNorm: z.number().positive().optional(),
  /** Gaussian noise standard deviation, as a multiple of the clipping norm (client-level DP-FedAvg, decision 0011). */
  noiseMultiplier: z.number().min(0).optional(),
  /**
   * Poisson sampling: each participant takes part in each round independently with this probability (q).
   * Unset: every participant in every round (q = 1). Federated tasks only.
   */
  samplingRate: z.number().gt(0).max(1).optional(),
  /** The δ at which the ε spent is reported (and the budget checked). */
  delta: z.number().gt(0).lt(1).default(1e-5),
  /** The ε after which training stops: no round starts that would take the ε spent (at `delta`) above it. */
  budget: z.object({ epsilon: z.number().positive(), delta: z.number().gt(0).lt(1).optional() }).optional(),
});
export type PrivacySettings = z.infer<typeof privacySettings>;

/** The task's fields, each checked alone; {@link taskSchema} adds the checks across fields. */
const taskObject = z.object({
  id: slug,
  title: z.string().trim().min(1).max(120),
  description: markdown(20_000),
  /** What a data owner must provide, for a non-specialist (markdown). */
  dataFormat: markdown(20_000).default(''),
  /** A few lines of example data (CSV text) or an example file name. */
  sample: z.string().max(20_000).optional(),
  dataType: z.enum(dataTypes),
  tabular: tabularSpec.optional(),
  image: imageSpec.optional(),
  text: textSpec.optional(),
  preprocessing: z.array(preprocessingStep).default([]),
  model: modelSource,
  training: trainingSettings.prefault({}),
  scheme: z.enum(schemes).default('federated'),
  minParticipants: z.number().int().min(1).max(10_000).default(2),
  /**
   * Federated tasks: `sync` rounds wait for the round's participants (or its deadline); `async` (FedBuff,
   * Nguyen et al. 2022, decision 0013) accepts an update whenever a participant finishes and publishes a new
   * version every `async.bufferSize` updates, each weighted by its staleness.
   */
  mode: z.enum(trainingModes).default('sync'),
  async: z
    .object({
      /** K: a new version is aggregated from every K accepted updates. */
      bufferSize: z.number().int().min(1).max(1000).default(4),
      /** An update trained from a version more than this many versions old is refused (`STALE_UPDATE`). */
      maxStaleness: z.number().int().min(0).max(1000).default(10),
      /** `polynomial`: weight (1 + s)^-stalenessExponent (1/√(1+s) by default); `constant`: 1. */
      stalenessWeighting: z.enum(stalenessWeightings).default('polynomial'),
      stalenessExponent: z.number().min(0).max(4).default(0.5),
    })
    .prefault({}),
  /** Seconds after its opening at which a round closes with whoever submitted. */
  roundDeadlineSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(120),
  /**
   * Federated: a participant that stays connected but sends no update in this many rounds in a row stops
   * counting towards the quorum (rounds close without waiting for it) until it sends one again; unset: 2.
   */
  maxMissedRounds: z.number().int().min(1).max(1000).optional(),
  aggregation: z
    .object({
      strategy: z.enum(aggregationStrategies).default('fedavg'),
      /**
       * Fraction trimmed at each end (trimmed-mean, [0, 0.5), default 0.1), the number f of Byzantine clients
       * tolerated (krum, multi-krum; a whole number, default 0) or the clipping radius τ (centered-clipping,
       * above 0; default: the median distance to the centre). See decision 0012.
       */
      parameter: z.number().min(0).optional(),
      /**
       * Bucketing (Karimireddy, He and Jaggi 2022) around the robust strategy: the updates are shuffled and
       * averaged in buckets of `size` before the strategy combines the bucket means.
       */
      bucketing: z.object({ size: z.number().int().min(2).max(100) }).optional(),
      /** The server's step from the aggregate; unset: plain SGD with learning rate 1 (FedAvg). */
      serverOptimizer: serverOptimizerSettings.optional(),
      /**
       * The most training examples one update may claim (`meta.samples`, its FedAvg weight). A larger
       * claim is refused (`BAD_META`), so that no participant weighs more than this; an honest client with
       * more data claims this many. Set it to the task's whole data set (Titanic: 1309 passengers). Unset:
       * no bound. The robust strategies (median, trimmed mean, Krum) ignore the weights anyway.
       */
      maxSamplesPerUpdate: z.number().int().positive().optional(),
    })
    .prefault({}),
  privacy: privacySettings.prefault({}),
  /** Encoding of model updates on the wire. */
  quantization: z.enum(quantizations).default('float32'),
});

/** The fields the checks across fields read (checked on their own when another field is wrong). */
const crossFieldObject = taskObject.pick({
  dataType: true,
  tabular: true,
  image: true,
  text: true,
  mode: true,
  preprocessing: true,
  model: true,
  scheme: true,
  minParticipants: true,
  aggregation: true,
  privacy: true,
});

/** The checks that involve several fields (a tabular task needs `tabular`, a CNN needs image data, …). */
function checkAcrossFields(task: z.output<typeof crossFieldObject>, ctx: z.RefinementCtx): void {
  const need = (key: 'tabular' | 'image' | 'text') => {
    if (task.dataType === key && !task[key])
      ctx.addIssue({ code: 'custom', path: [key], message: `required when dataType is "${key}"` });
  };
  need('tabular');
  need('image');
  need('text');

  const columns = new Set(task.tabular?.inputColumns ?? []);
  task.preprocessing.forEach((step, i) => {
    const imageStep = step.type === 'resize' || step.type === 'scale-pixels';
    if (imageStep && task.dataType !== 'image')
      ctx.addIssue({ code: 'custom', path: ['preprocessing', i, 'type'], message: `"${step.type}" applies to image tasks only` });
    if (!imageStep && task.dataType !== 'tabular')
      ctx.addIssue({ code: 'custom', path: ['preprocessing', i, 'type'], message: `"${step.type}" applies to tabular tasks only` });
    if ('column' in step && task.tabular && !columns.has(step.column))
      ctx.addIssue({
        code: 'custom',
        path: ['preprocessing', i, 'column'],
        message: `"${step.column}" is not one of the input columns (${[...columns].join(', ')})`,
      });
    if (step.type === 'min-max' && step.max <= step.min)
      ctx.addIssue({ code: 'custom', path: ['preprocessing', i, 'max'], message: 'must be greater than min' });
  });

  if (task.model.source === 'builtin') {
    const arch = task.model.architecture;
    const expected: Record<BuiltinArchitecture, DataType> = {
      'tabular-mlp': 'tabular',
      'mnist-cnn': 'image',
      'cifar10-cnn': 'image',
      'image-mlp': 'image',
      gpt: 'text',
    };
    if (expected[arch] !== task.dataType)
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'architecture'],
        message: `"${arch}" is built for ${expected[arch]} data, not ${task.dataType}`,
      });
  }
  if (task.model.source === 'builtin' && task.model.gpt && task.model.architecture !== 'gpt')
    ctx.addIssue({ code: 'custom', path: ['model', 'gpt'], message: `only the "gpt" architecture reads these settings, not "${task.model.architecture}"` });
  if (task.mode === 'async' && task.scheme !== 'federated')
    ctx.addIssue({ code: 'custom', path: ['mode'], message: `asynchronous training applies to federated tasks only (this one is ${task.scheme}; see decision 0013)` });
  if (task.scheme !== 'local' && task.minParticipants < 1)
    ctx.addIssue({ code: 'custom', path: ['minParticipants'], message: 'must be at least 1' });
  checkAggregation(task, ctx);
  checkPrivacy(task, ctx);
  checkAsync(task, ctx);
}

/** What asynchronous training (FedBuff, decision 0013) cannot be combined with, and why. */
function checkAsync(task: z.output<typeof crossFieldObject>, ctx: z.RefinementCtx): void {
  if (task.mode !== 'async') return;
  const { privacy } = task;
  if (privacy.secureAggregation)
    ctx.addIssue({
      code: 'custom',
      path: ['privacy', 'secureAggregation'],
      message:
        'secure aggregation needs the members of a sum to run the protocol together (keys, shares, masked inputs, unmasking), which asynchronous participants never do: not available with mode "async"; use mode "sync"',
    });
  if (privacy.samplingRate !== undefined && privacy.samplingRate < 1)
    ctx.addIssue({
      code: 'custom',
      path: ['privacy', 'samplingRate'],
      message:
        'sampling draws each participant for each round; an asynchronous task has no rounds to draw for, so the accountant would count a rate nobody used: not available with mode "async" (each version is accounted at q = 1)',
    });
}

/** What each strategy's `parameter`, bucketing and the server optimizer accept (decision 0012). */
function checkAggregation(task: z.output<typeof crossFieldObject>, ctx: z.RefinementCtx): void {
  const { strategy, parameter, bucketing, serverOptimizer } = task.aggregation;
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path: ['aggregation', ...path], message });
  if (parameter !== undefined) {
    if (strategy === 'trimmed-mean' && parameter >= 0.5) issue(['parameter'], `the fraction trimmed at each end must be below 0.5, got ${parameter}`);
    if ((strategy === 'krum' || strategy === 'multi-krum') && !Number.isInteger(parameter))
      issue(['parameter'], `the number of Byzantine clients ${strategy} tolerates must be a whole number, got ${parameter}`);
    if (strategy === 'centered-clipping' && parameter === 0) issue(['parameter'], 'the clipping radius must be above 0');
  }
  if (bucketing && strategy === 'fedavg') issue(['bucketing'], 'bucketing applies to a robust strategy; "fedavg" averages every update already');
  if (serverOptimizer) {
    const { name } = serverOptimizer;
    if (name === 'sgd' && serverOptimizer.momentum !== undefined) issue(['serverOptimizer', 'momentum'], '"sgd" has no momentum; use "momentum"');
    for (const key of ['beta2', 'epsilon'] as const)
      if ((name === 'sgd' || name === 'momentum') && serverOptimizer[key] !== undefined)
        issue(['serverOptimizer', key], `only "adam" and "yogi" read ${key}, not "${name}"`);
    if (serverOptimizer.nesterov !== undefined && name !== 'momentum') issue(['serverOptimizer', 'nesterov'], `only "momentum" reads nesterov, not "${name}"`);
  }
}

/** What the privacy settings need from each other and from the rest of the task (decisions 0010 and 0011). */
function checkPrivacy(task: z.output<typeof crossFieldObject>, ctx: z.RefinementCtx): void {
  const { privacy, scheme, aggregation } = task;
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const noisy = (privacy.noiseMultiplier ?? 0) > 0;
  if (noisy && privacy.clippingNorm === undefined) issue(['privacy', 'clippingNorm'], 'required when noiseMultiplier is set');
  if (privacy.secureAggregation) {
    if (scheme === 'local') issue(['privacy', 'secureAggregation'], 'a local task has no aggregation to secure');
    if (privacy.clippingNorm === undefined)
      issue(['privacy', 'clippingNorm'], 'required when secureAggregation is on: updates are clipped to it so that their masked sum cannot overflow');
    if (task.minParticipants < 3)
      issue(['minParticipants'], 'must be at least 3 with secureAggregation: with two participants the sum reveals each one\'s update to the other');
    if (!noisy && aggregation.maxSamplesPerUpdate === undefined)
      issue(['aggregation', 'maxSamplesPerUpdate'], 'required when secureAggregation is on: the examples an update claims are summed masked, and must be bounded');
  }
  if ((privacy.secureAggregation || noisy) && aggregation.strategy !== 'fedavg')
    issue(
      ['aggregation', 'strategy'],
      `"${aggregation.strategy}" needs each update on its own, which ${privacy.secureAggregation ? 'secure aggregation hides' : 'differential privacy does not bound'}; use "fedavg"`,
    );
  if (noisy && scheme === 'decentralized' && !privacy.secureAggregation)
    issue(['privacy', 'noiseMultiplier'], 'a decentralized task with noise needs secureAggregation: each peer would otherwise see the others\' updates with only a share of the noise');
  if (noisy && scheme === 'local') issue(['privacy', 'noiseMultiplier'], 'a local task shares nothing to add noise to');
  if (privacy.samplingRate !== undefined && privacy.samplingRate < 1 && scheme !== 'federated')
    issue(['privacy', 'samplingRate'], 'sampling of participants applies to federated tasks only');
  if (privacy.budget && !noisy) issue(['privacy', 'budget'], 'a budget needs noiseMultiplier above 0: without noise, ε is infinite');
  if (privacy.budget?.delta !== undefined && privacy.budget.delta !== privacy.delta)
    issue(['privacy', 'budget', 'delta'], `must equal privacy.delta (${privacy.delta}): ε is reported at one δ`);
}

export const taskSchema = taskObject.superRefine(checkAcrossFields);

/** A validated task, defaults applied. */
export type Task = z.infer<typeof taskSchema>;
/** A task as an author writes it: defaults may be left out. */
export type TaskInput = z.input<typeof taskSchema>;

/** Thrown by {@link parseTask}; `issues` lists every problem as `path: reason`. */
export class TaskValidationError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid task:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'TaskValidationError';
    this.issues = issues;
  }
}

/** Formats zod issues as `path: reason` lines, e.g. `training.batchSize: Too small: expected number to be >=1`. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  return issues.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(task)'}: ${issue.message}`);
}

/** Validates without throwing: `{ ok: true, task }` or `{ ok: false, errors }` with every problem at once. */
export function validateTask(input: unknown): { ok: true; task: Task } | { ok: false; errors: string[] } {
  const result = taskSchema.safeParse(input);
  if (result.success) return { ok: true, task: result.data };
  // zod skips the checks across fields when any field is wrong (a missing description, say): run them on
  // the fields they read, so that every problem is reported at once.
  const across = crossFieldObject.superRefine(checkAcrossFields).safeParse(input);
  const issues = across.success ? result.error.issues : [...result.error.issues, ...across.error.issues];
  return { ok: false, errors: [...new Set(formatIssues(issues))] };
}

/** Validates a task and applies its defaults, or throws a {@link TaskValidationError} listing every problem. */
export function parseTask(input: unknown): Task {
  const result = validateTask(input);
  if (!result.ok) throw new TaskValidationError(result.errors);
  return result.task;
}
