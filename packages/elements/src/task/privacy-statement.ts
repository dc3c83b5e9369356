import type { Task } from '@disco/core';

/** A task's privacy, in plain language, one statement per topic. */
export interface PrivacyStatement {
  /** What leaves the participant's device. */
  leavesDevice: string;
  /** Who can see a participant's model change. Absent for local tasks. */
  secureAggregation?: string;
}

/**
 * Explains what a task does with a participant's data, for people who are not specialists. Only what the
 * code enforces is said: secure aggregation and differential privacy are not wired into rounds yet, so a
 * server refuses tasks that ask for them (`unenforcedSettings` in `@disco/core`) and nothing here
 * promises them.
 */
export function describePrivacy(task: Task): PrivacyStatement {
  if (task.scheme === 'local')
    return { leavesDevice: 'Nothing leaves your device: your files are read and the model is trained in this browser only.' };
  const recipients = task.scheme === 'federated' ? 'the server' : 'the other participants';
  return {
    leavesDevice: `Your files never leave your device. After each round, only the change your training made to the model (a list of numbers) is sent to ${recipients}, together with how many examples you trained on and your training scores.`,
    secureAggregation: `Secure aggregation is off: ${recipients} can see your model change on its own (but still not your data).`,
  };
}
