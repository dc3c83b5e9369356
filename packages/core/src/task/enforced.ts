import type { Task } from './schema.js';

/**
 * The settings a task may spell (the schema knows them) that this build does not enforce yet, as
 * `path: reason` lines. A server refuses a task that sets any of them, and the task form does not offer
 * them: nothing is promised that the code does not enforce. Secure aggregation and differential privacy
 * are built as libraries (`secure/`, `privacy/`) but not yet wired into rounds.
 *
 * @example
 * ```ts
 * unenforcedSettings({ ...titanic, privacy: { secureAggregation: true } });
 * // ['privacy.secureAggregation: secure aggregation is not enforced by this version yet; leave it off']
 * ```
 */
export function unenforcedSettings(task: Pick<Task, 'privacy'>): string[] {
  const { secureAggregation, clippingNorm, noiseMultiplier, budget } = task.privacy;
  const issues: string[] = [];
  if (secureAggregation) issues.push('privacy.secureAggregation: secure aggregation is not enforced by this version yet; leave it off');
  if (clippingNorm !== undefined) issues.push('privacy.clippingNorm: clipping of updates is not enforced by this version yet; leave it unset');
  if (noiseMultiplier !== undefined && noiseMultiplier > 0)
    issues.push('privacy.noiseMultiplier: differential-privacy noise is not enforced by this version yet; leave it unset');
  if (budget) issues.push('privacy.budget: a privacy budget is not accounted by this version yet; leave it unset');
  return issues;
}
