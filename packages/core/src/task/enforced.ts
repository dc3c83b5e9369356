import { createStrategy } from '../aggregation/index.js';
import { firstRoundBudgetIssue } from '../privacy/rounds.js';
import { validateTask, type Task } from './schema.js';

/**
 * The settings a task may spell (the schema knows them) that this build does not enforce yet, as
 * `path: reason` lines. A server refuses a task that sets any of them, and the task form does not offer
 * them: nothing is promised that the code does not enforce. Differential privacy (clipping, noise,
 * sampling, the budget) is enforced by the rounds (`privacy/rounds.ts`); secure aggregation by federated
 * rounds (`client/secure-round.ts`, the server's secure steps) and by decentralized ones (`peer/secure-round.ts`).
 * Every privacy setting is enforced now, so this returns no line; it stays the place for the next one.
 */
export function unenforcedSettings(_task: Pick<Task, 'privacy'> & { scheme?: Task['scheme'] }): string[] {
  // Secure aggregation: federated and decentralized rounds (decision 0010); clipping, noise, sampling and the
  // budget: the rounds (privacy/rounds.ts, decision 0011).
  return [];
}

/**
 * Every problem of a task definition as a server sees it when the task is created: the schema's issues,
 * then what this build cannot run (an unimplemented strategy, {@link unenforcedSettings}) and a model
 * source that does not match the upload. The server and the in-memory fake both refuse with these.
 */
export function taskCreationIssues(input: unknown, hasUpload: boolean): { ok: true; task: Task } | { ok: false; errors: string[] } {
  const result = validateTask(input);
  if (!result.ok) return result;
  const task = result.task;
  const errors: string[] = [];
  try {
    createStrategy(task.aggregation);
  } catch (error) {
    errors.push(`aggregation: ${(error as Error).message}`);
  }
  const optimizer = task.aggregation.serverOptimizer;
  // Federated rounds apply it on the server (and the in-memory federation); decentralized peers have no server
  // step and do not. Plain SGD at 1 is FedAvg, which they run.
  if (task.scheme !== 'federated' && optimizer && !(optimizer.name === 'sgd' && (optimizer.learningRate ?? 1) === 1))
    errors.push(`aggregation.serverOptimizer: only federated rounds apply a server optimizer, not ${task.scheme} ones; leave it unset`);
  errors.push(...unenforcedSettings(task));
  const budget = firstRoundBudgetIssue(task);
  if (budget) errors.push(budget);
  if (task.model.source === 'tfjs' && !hasUpload) errors.push('model: a task whose model.source is "tfjs" needs an uploaded model (model.json and weights.bin)');
  if (task.model.source === 'builtin' && hasUpload) errors.push('model: an uploaded model needs model.source "tfjs"');
  return errors.length ? { ok: false, errors } : { ok: true, task };
}
