import type { Task } from '../schema.js';
import { cifar10 } from './cifar10.js';
import { mnist } from './mnist.js';
import { shakespeare } from './shakespeare.js';
import { titanic } from './titanic.js';

export { cifar10, cifar10Classes } from './cifar10.js';
export { mnist } from './mnist.js';
export { shakespeare } from './shakespeare.js';
export { titanic } from './titanic.js';

/** The tasks shipped with Disco, validated and with their defaults applied. */
export const builtinTasks: Task[] = [titanic, mnist, cifar10, shakespeare];

/**
 * The built-in task with this id, if any: a copy, so that a caller changing it (e.g. the number of rounds
 * for a test) does not change it for everyone else in the process.
 */
export function getBuiltinTask(id: string): Task | undefined {
  const task = builtinTasks.find((t) => t.id === id);
  return task && structuredClone(task);
}
