import type { Task } from '@disco/core';

/** A task's privacy promises in plain language, one statement per topic. */
export interface PrivacyStatement {
  /** What leaves the participant's device. */
  leavesDevice: string;
  /** Secure aggregation, on or off, and what it means. Absent for local tasks. */
  secureAggregation?: string;
  /** Clipping, noise and the differential-privacy budget, when the task sets them. */
  differentialPrivacy?: string;
}

/**
 * Explains what a task does with a participant's data, for people who are not specialists. The sentences
 * follow the task's settings only; nothing is promised that the settings do not enforce.
 */
export function describePrivacy(task: Task): PrivacyStatement {
  if (task.scheme === 'local')
    return { leavesDevice: 'Nothing leaves your device: your files are read and the model is trained in this browser only.' };
  const recipients = task.scheme === 'federated' ? 'the server' : 'the other participants';
  const statement: PrivacyStatement = {
    leavesDevice: `Your files never leave your device. After each round, only the change your training made to the model (a list of numbers) is sent to ${recipients}, together with how many examples you trained on and your training scores.`,
    secureAggregation: task.privacy.secureAggregation
      ? `Secure aggregation is on: your model change is masked before it is sent, so ${recipients} can only see the sum of everyone's changes, never yours alone.`
      : `Secure aggregation is off: ${recipients} can see your model change on its own (but still not your data).`,
  };
  const { clippingNorm, noiseMultiplier, budget } = task.privacy;
  const parts: string[] = [];
  if (clippingNorm !== undefined) parts.push(`Your model change is limited in size (clipped to a norm of ${clippingNorm}) so that no single example can weigh too much.`);
  if (noiseMultiplier !== undefined && noiseMultiplier > 0)
    parts.push(`Random noise is added to it (${noiseMultiplier} × the clipping norm) to hide the contribution of any one example.`);
  if (budget)
    parts.push(
      `Differential privacy budget: ε = ${budget.epsilon}, δ = ${budget.delta}. Your browser stops contributing once this budget is spent; a smaller ε means stronger privacy.`,
    );
  if (parts.length) statement.differentialPrivacy = parts.join(' ');
  return statement;
}
