import { eq, sql } from 'drizzle-orm';
import { DiscoApiError, taskCreationIssues, totalSize, type Task, type WeightShape } from '@disco/core';
import { transaction, type Db } from '../db/client.js';
import type { tasks } from '../db/schema.js';
import { parseUploadedModel, type InitialModel, type ModelToolkit } from './model-toolkit.js';
import { latestVersion, storeVersion } from './models.js';
import { connectionCache, prepared } from './prepared.js';
import type { RoundCoordinator } from './rounds/coordinator.js';
import { activeParticipantCount, closedRoundCount, currentRound, roundIds } from './rounds/queries.js';
import { removeRoundFiles } from './rounds/stored-updates.js';

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
 * The stored task with this id. Its parsed definition is cached per database (a task never changes once
 * created); a cheap look-up of its creation time still runs on every call, so that a task deleted (or deleted
 * and created again) by any means, by this instance or another, is never served from the cache.
 */
export async function findTask(db: Db, id: string): Promise<StoredTask | undefined> {
  const cache = connectionCache<StoredTask>(db, 'tasks');
  const cached = cache.get(id);
  if (cached) {
    const [current] = await prepared(db, 'taskCreatedAt', ({ orm, tables: t }) =>
      orm.select({ createdAt: t.tasks.createdAt }).from(t.tasks).where(eq(t.tasks.id, sql.placeholder('id'))).prepare(),
    ).execute({ id });
    if (current && current.createdAt === cached.createdAt) return cached;
    cache.delete(id);
  }
  const [row] = await prepared(db, 'task', ({ orm, tables: t }) => orm.select().from(t.tasks).where(eq(t.tasks.id, sql.placeholder('id'))).prepare()).execute({
    id,
  });
  if (!row) return undefined;
  const stored = toStored(row);
  cache.set(id, stored);
  return stored;
}

/** The task with this id, or a NOT_FOUND error. */
export async function loadTask(db: Db, id: string): Promise<StoredTask> {
  const found = await findTask(db, id);
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

export async function summarise(db: Db, stored: StoredTask, heartbeatTimeoutMs: number, now = Date.now()): Promise<TaskSummary> {
  const id = stored.task.id;
  const [current, participants, roundsClosed, latest] = await Promise.all([
    currentRound(db, id),
    activeParticipantCount(db, id, now - heartbeatTimeoutMs),
    closedRoundCount(db, id),
    latestVersion(db, id),
  ]);
  return {
    task: stored.task,
    builtin: stored.builtin,
    createdAt: stored.createdAt,
    uploadedModel: stored.uploadedModel,
    parameterCount: stored.parameterCount,
    participants,
    roundsClosed,
    currentRound: current ? { number: current.number, phase: current.phase, deadline: current.phase === 'open' ? current.deadlineAt : null } : null,
    latestVersion: latest?.version ?? 0,
  };
}

export async function listTasks(db: Db): Promise<StoredTask[]> {
  const { orm, tables: t } = db;
  return (await orm.select().from(t.tasks).orderBy(t.tasks.createdAt, t.tasks.id)).map(toStored);
}

export interface CreateTaskInput {
  /** The task definition as an author wrote it (validated here). */
  task: unknown;
  /** An uploaded TF.js model: `model.json` (parsed) and `weights.bin`. */
  model?: { modelJson: unknown; weights: Uint8Array };
}

/**
 * Creates a task: validates it (reporting every issue), builds or checks its model, and stores the task,
 * version 0 of its model and its first round in one transaction. A task of the same id created meanwhile (by
 * another request or instance) makes it fail with CONFLICT, and nothing of it is stored.
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
  const conflict = () => new DiscoApiError('CONFLICT', `task "${task.id}" already exists`, [`id: a task "${task.id}" already exists`]);
  if (await findTask(db, task.id)) throw conflict();

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

  const now = Date.now();
  await transaction(db, async (tx) => {
    const { orm, tables: t } = tx;
    // DO NOTHING, not a check before: two creations racing (two instances) insert one row, and the other learns it here.
    const inserted = await orm
      .insert(t.tasks)
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
      .onConflictDoNothing()
      .returning({ id: t.tasks.id });
    if (!inserted.length) throw conflict();
    await storeVersion(tx, task.id, 0, model.weights, null, now);
    await deps.coordinator.openFirstRound(tx, task);
  });
  return loadTask(db, task.id);
}

/** Deletes a task with its versions, rounds, participants and updates. */
export async function deleteTask(db: Db, deps: { coordinator: RoundCoordinator }, id: string): Promise<void> {
  const { orm, tables: t } = db;
  await loadTask(db, id);
  const ids = await roundIds(db, id);
  await orm.delete(t.tasks).where(eq(t.tasks.id, id));
  connectionCache<StoredTask>(db, 'tasks').delete(id);
  await deps.coordinator.taskDeleted(id, ids);
  removeRoundFiles(db, ids);
}

const SEEDED_KEY = 'builtinTasksSeeded';

/**
 * Seeds the built-in tasks not seeded before: each one once in the life of the database, so that a
 * built-in task an admin deleted stays deleted, while one added by a later release appears. Instances starting
 * together on one database may both try a task: the one that loses the race takes the other's.
 */
export async function seedBuiltinTasks(
  db: Db,
  deps: { toolkit: ModelToolkit; coordinator: RoundCoordinator },
  builtins: readonly Task[],
): Promise<string[]> {
  const { orm, tables: t } = db;
  const [row] = await orm.select().from(t.settings).where(eq(t.settings.key, SEEDED_KEY));
  const seeded = new Set((row?.value as string[] | undefined) ?? []);
  const added: string[] = [];
  for (const task of builtins) {
    if (seeded.has(task.id)) continue;
    if (!(await findTask(db, task.id))) {
      try {
        await createTask(db, deps, { task }, { builtin: true });
        added.push(task.id);
      } catch (error) {
        if (!(error instanceof DiscoApiError && error.code === 'CONFLICT')) throw error;
      }
    }
    seeded.add(task.id);
    const value = [...seeded];
    await orm.insert(t.settings).values({ key: SEEDED_KEY, value }).onConflictDoUpdate({ target: t.settings.key, set: { value } });
  }
  return added;
}
