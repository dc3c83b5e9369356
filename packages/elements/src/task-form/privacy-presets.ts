import type { PrivacySettings } from '@disco/core';

/** The privacy presets the task form offers before raw numbers. */
export type PrivacyPreset = 'none' | 'standard' | 'strict';

/** What each preset sets, with a sentence for the form. */
export const privacyPresets: Record<PrivacyPreset, { label: string; description: string; settings: PrivacySettings }> = {
  none: {
    label: 'None',
    description: 'Updates are sent as they are. Fine for public or non-sensitive data.',
    settings: { secureAggregation: false },
  },
  standard: {
    label: 'Standard',
    description: 'Secure aggregation, updates clipped and lightly noised; a moderate privacy budget (ε = 8).',
    settings: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 0.6, budget: { epsilon: 8, delta: 1e-5 } },
  },
  strict: {
    label: 'Strict',
    description: 'Secure aggregation, strong noise and a tight budget (ε = 1): the most private, at some cost in accuracy.',
    settings: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 1.1, budget: { epsilon: 1, delta: 1e-5 } },
  },
};

/** The preset that `settings` equal, or `custom`. */
export function presetOf(settings: PrivacySettings): PrivacyPreset | 'custom' {
  const same = (a: PrivacySettings, b: PrivacySettings) =>
    a.secureAggregation === b.secureAggregation &&
    a.clippingNorm === b.clippingNorm &&
    a.noiseMultiplier === b.noiseMultiplier &&
    a.budget?.epsilon === b.budget?.epsilon &&
    a.budget?.delta === b.budget?.delta;
  return (Object.keys(privacyPresets) as PrivacyPreset[]).find((p) => same(privacyPresets[p].settings, settings)) ?? 'custom';
}
