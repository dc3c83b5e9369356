import { eq, sql } from 'drizzle-orm';
import { DiscoApiError, taskCreationIssues, totalSize, type Task, type WeightShape } from '@disco/core';
import type { Db } from '../db/client.js';
import { settings, tasks } from '../db/schema.js';
import { parseUploadedModel, type InitialModel, type ModelToolkit } from './model-toolkit.js';
import { latestVersion, storeVersion } from './models.js';
import { connectionCache, prepared } from './prepared.js';
import type { RoundCoordinator } from './rounds/coordinator.js';
import { activeParticipantCount, closedRoundCount, currentRound, roundIds } from './rounds/queries.js';

export type TaskRow = typeof tasks.$inferSelect;

export interface StoredTask {
  task: Task;
  builtin: boolean;
  createdAt: number;
  uploadedModel: boolean;
  shapes: WeightShape[];
  parameterCount: number;
  modelTopology: Record<string, unknown> | null;
}

function toStored(row: TaskRow): StoredTask {
  return {
    task: row.definition as Task,
    builtin: row.builtin,
    createdAt: row.createdAt,
    uploadedModel: row.uploadedModel,
    shapes: row.shapes as WeightShape[],
    parameterCount: row.parameterCount,
    modelTopology: (row.modelTopology as Record<string, unknown> | null) ?? null,
  };
}

/**
 * The stored task with this id. Its parsed definition is cached per connection (a task never changes once
 * created); a cheap look-up of its creation time still runs on every call, so that a task deleted (or deleted
 * and created again) by any means is never served from the cache.
 */
export function findTask(db: Db, id: string): StoredTask | undefined {
  const cache = connectionCache<StoredTask>(db, 'tasks');
  const cached = cache.get(id);
  if (cached) {
    const current = prepared(db, 'taskCreatedAt', (d) =>
      d.select({ createdAt: tasks.createdAt }).from(tasks).where(eq(tasks.id, sql.placeholder('id'))).prepare(),
    ).get({ id });
    if (current && current.createdAt === cached.createdAt) return cached;
    cache.delete(id);
  }
  const row = prepared(db, 'task', (d) => d.select().from(tasks).where(eq(tasks.id, sql.placeholder('id'))).prepare()).get({ id });
  if (!row) return undefined;
  const stored = toStored(row);
  cache.set(id, stored);
  return stored;
}

/** The task with this id, or a NOT_FOUND error. */
export function loadTask(db: Db, id: string): StoredTask {
  const found = findTask(db, id);
  if (!found) throw new DiscoApiError('NOT_FOUND', `task "${id}" does not exist`);
  return found;
}

/** A task as the `tasks` router lists it. */
export interface TaskSummary {
  task: Task;
  builtin: boolean;
  createdAt: number;
  uploadedModel: boolean;
  parameterCount: number;
  /** Participants active now. */
  participants: number;
  /** Rounds closed so far. */
  roundsClosed: number;
  /** The current round, if the task has rounds (federated). */
  currentRound: { number: number; phase: string; deadline: number | null } | null;
  latestVersion: number;
}

export function summarise(db: Db, stored: StoredTask, heartbeatTimeoutMs: number, now = Date.now()): TaskSummary {
  const id = stored.task.id;
  const current = currentRound(db, id);
  return {
    task: stored.task,
    builtin: stored.builtin,
    createdAt: stored.createdAt,
    uploadedModel: stored.uploadedModel,
    parameterCount: stored.parameterCount,
    participants: activeParticipantCount(db, id, now - heartbeatTimeoutMs),
    roundsClosed: closedRoundCount(db, id),
    currentRound: current ? { number: current.number, phase: current.phase, deadline: current.phase === 'open' ? current.deadlineAt : null } : null,
    latestVersion: latestVersion(db, id)?.version ?? 0,
  };
}

export function listTasks(db: Db): StoredTask[] {
  return db.select().from(tasks).orderBy(tasks.createdAt, tasks.id).all().map(toStored);
}

export interface CreateTaskInput {
  /** The task definition as an author wrote it (validated here). */
  task: unknown;
  /** An uploaded TF.js model: `model.json` (parsed) and `weights.bin`. */
  model?: { modelJson: unknown; weights: Uint8Array };
}

/**
 * Creates a task: validates it (reporting every issue), builds or checks its model, and stores the task,
 * version 0 of its model and its first round in one transaction.
 */
export async function createTask(
  db: Db,
  deps: { toolkit: ModelToolkit; coordinator: RoundCoordinator },
  input: CreateTaskInput,
  options: { builtin?: boolean } = {},
): Promise<StoredTask> {
  const checked = taskCreationIssues(input.task, !!input.model);
  if (!checked.ok) throw new DiscoApiError('INVALID_TASK', `Invalid task:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}`, checked.errors);
  const task = checked.task;
  if (findTask(db, task.id)) throw new DiscoApiError('CONFLICT', `task "${task.id}" already exists`, [`id: a task "${task.id}" already exists`]);

  let model: InitialModel;
  let uploaded = false;
  if (input.model) {
    const parsed = parseUploadedModel(input.model.modelJson, input.model.weights);
    const loaded = parsed.ok ? await deps.toolkit.loadUpload(task, parsed.modelJson, input.model.weights) : parsed;
    if (!loaded.ok)
      throw new DiscoApiError('INVALID_MODEL', `The uploaded model does not fit the task:\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}`, loaded.errors);
    model = loaded.model;
    uploaded = true;
  } else {
    model = await deps.toolkit.build(task);
  }
  if (findTask(db, task.id)) throw new DiscoApiError('CONFLICT', `task "${task.id}" already exists`, [`id: a task "${task.id}" already exists`]);

  const now = Date.now();
  db.transaction((tx) => {
    tx.insert(tasks)
      .values({
        id: task.id,
        definition: task,
        createdAt: now,
        builtin: !!options.builtin,
        modelTopology: model.topology,
        uploadedModel: uploaded,
        shapes: model.weights.shapes,
        parameterCount: totalSize(model.weights.shapes),
      })
      .run();
    storeVersion(tx, task.id, 0, model.weights, null, now);
    deps.coordinator.openFirstRound(tx, task);
  });
  return loadTask(db, task.id);
}

/** Deletes a task with its versions, rounds, participants and updates. */
export function deleteTask(db: Db, deps: { coordinator: RoundCoordinator }, id: string): void {
  loadTask(db, id);
  const ids = roundIds(db, id);
  db.delete(tasks).where(eq(tasks.id, id)).run();
  connectionCache<StoredTask>(db, 'tasks').delete(id);
  deps.coordinator.forgetTask(id, ids);
}

const SEEDED_KEY = 'builtinTasksSeeded';

/**
 * Seeds the built-in tasks not seeded before: each one once in the life of the database, so that a
 * built-in task an admin deleted stays deleted, while one added by a later release appears.
 */
export async function seedBuiltinTasks(
  db: Db,
  deps: { toolkit: ModelToolkit; coordinator: RoundCoordinator },
  builtins: readonly Task[],
): Promise<string[]> {
  const row = db.select().from(settings).where(eq(settings.key, SEEDED_KEY)).get();
  const seeded = new Set((row?.value as string[] | undefined) ?? []);
  const added: string[] = [];
  for (const task of builtins) {
    if (seeded.has(task.id)) continue;
    if (!findTask(db, task.id)) {
      await createTask(db, deps, { task }, { builtin: true });
      added.push(task.id);
    }
    seeded.add(task.id);
    const value = [...seeded];
    db.insert(settings).values({ key: SEEDED_KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
  }
  return added;
}
