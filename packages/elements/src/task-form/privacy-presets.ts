import { msg, str } from '@lit/localize';
import { Accountant, type PrivacySettings, type TaskInput } from '@disco/core';
import { defaultDelta, draftIssues, privacyValues, type DraftValues } from './task-draft.js';

/** The privacy presets of the task form; `custom` is every field by hand. */
export type PrivacyPreset = 'none' | 'secure' | 'secure-dp';

/** The ε budget of the `secure-dp` preset. */
const PRESET_EPSILON = 8;
/** Its noise multiplier: with every participant in every round, 8 rounds fit in ε = 8 at δ = 1e-5. */
const PRESET_NOISE = 2;
/** The clipping norm of the secure presets: the bound of each model change, before masking. */
const PRESET_CLIP = 1;
/** The bound on the examples an update claims when the form has none (secure aggregation sums it masked). */
export const DEFAULT_MAX_SAMPLES = 1000;

/** A privacy preset: its label, and exactly the privacy settings it sets (the rest of the task is adjusted by {@link applyPreset}). */
export interface PresetDefinition {
  label: string;
  privacy: Partial<PrivacySettings>;
}

// Labels as getters, so that each read is in the page's current language.
export const privacyPresets: Record<PrivacyPreset, PresetDefinition> = {
  none: {
    get label() {
      return msg('None', { id: 'task-form.preset-none' });
    },
    privacy: { secureAggregation: false },
  },
  secure: {
    get label() {
      return msg('Secure aggregation', { id: 'task-form.secure' });
    },
    privacy: { secureAggregation: true, clippingNorm: PRESET_CLIP },
  },
  'secure-dp': {
    get label() {
      return msg(str`Secure aggregation + differential privacy (ε ≤ ${PRESET_EPSILON})`, { id: 'task-form.preset-secure-dp-label' });
    },
    privacy: { secureAggregation: true, clippingNorm: PRESET_CLIP, noiseMultiplier: PRESET_NOISE, delta: 1e-5, budget: { epsilon: PRESET_EPSILON } },
  },
};

/**
 * The task with preset `preset` applied: its privacy settings exactly (every other privacy setting unset), and
 * what they require of the rest of the task: secure aggregation needs at least 3 participants per round (the
 * task's minimum is raised to 3 when lower) and, without noise, a bound on the examples an update claims (kept
 * when set, else {@link DEFAULT_MAX_SAMPLES}). The scheme and the strategy are left as chosen: where they do not
 * allow the preset, core's checks say why (see {@link presetIssues}).
 */
export function applyPreset<T extends TaskInput>(task: T, preset: PrivacyPreset): T {
  const { privacy } = privacyPresets[preset];
  const next: T = { ...task, privacy: structuredClone(privacy) };
  if (privacy.secureAggregation) {
    const min = task.minParticipants;
    next.minParticipants = Math.max(3, typeof min === 'number' && Number.isFinite(min) ? min : 0);
    if (!((privacy.noiseMultiplier ?? 0) > 0))
      next.aggregation = { ...task.aggregation, maxSamplesPerUpdate: task.aggregation?.maxSamplesPerUpdate ?? DEFAULT_MAX_SAMPLES };
  }
  return next;
}

/** The form's values with preset `preset` applied to the task `task` they describe (see {@link applyPreset}). */
export function applyPresetToValues(values: DraftValues, task: TaskInput, preset: PrivacyPreset): DraftValues {
  const applied = applyPreset(task, preset);
  const max = applied.aggregation?.maxSamplesPerUpdate;
  return {
    ...values,
    ...privacyValues(privacyPresets[preset].privacy),
    ...(applied.minParticipants !== task.minParticipants && { minParticipants: String(applied.minParticipants) }),
    ...(max !== undefined && { 'aggregation.maxSamplesPerUpdate': String(max) }),
  };
}

/**
 * Why preset `preset` cannot apply to `task` as it stands (its scheme, its strategy, what this build does not
 * enforce), in core's words: the problems of the task with the preset applied that it does not have with `none`.
 * Empty when the preset fits.
 */
export function presetIssues(task: TaskInput, preset: PrivacyPreset): string[] {
  const without = new Set(draftIssues(applyPreset(task, 'none')));
  return draftIssues(applyPreset(task, preset)).filter((issue) => !without.has(issue));
}

/** The preset whose privacy settings `privacy` are exactly (defaults applied), or `custom`. */
export function presetOf(privacy: PrivacySettings, defaultDelta: number): PrivacyPreset | 'custom' {
  const normal = (p: Partial<PrivacySettings>) =>
    JSON.stringify([p.secureAggregation ?? false, p.clippingNorm, p.noiseMultiplier || undefined, p.samplingRate ?? 1, p.delta ?? defaultDelta, p.budget?.epsilon]);
  const key = normal(privacy);
  return (Object.keys(privacyPresets) as PrivacyPreset[]).find((p) => normal(privacyPresets[p].privacy) === key) ?? 'custom';
}

/**
 * How many rounds fit in a budget: the rounds the accountant allows before the next would take ε above
 * `budget` (q = the sampling rate, z = the noise multiplier), up to `limit`.
 */
export function roundsWithinBudget(privacy: Partial<PrivacySettings>, limit: number): number {
  const z = privacy.noiseMultiplier ?? 0;
  if (!privacy.budget || z <= 0) return limit;
  const q = privacy.samplingRate ?? 1;
  const accountant = new Accountant();
  const budget = { epsilon: privacy.budget.epsilon, delta: privacy.delta ?? defaultDelta };
  let rounds = 0;
  while (rounds < limit && !accountant.wouldExceed(budget, q, z)) {
    accountant.step(q, z);
    rounds++;
  }
  return rounds;
}
