import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { roundPhases } from './schema.js';

/**
 * The database of the hosted API on PostgreSQL: the same tables, columns, keys, indexes and defaults as
 * `schema.ts` (SQLite, the embedded default), under the same TypeScript names and with the same row types, so
 * that a service can take either dialect's tables. `test/postgres-schema.test.ts` checks the two against each
 * other (a column added to one and not the other fails it) and against a real cluster. See `schema.ts` for
 * what each column means; only what differs between the dialects is said here.
 *
 * Types, from SQLite's:
 * - times (epoch milliseconds): `bigint` in `mode: 'number'`. Epoch milliseconds passed 2³¹ in 1970, so not
 *   `integer`; `bigint` keeps SQLite's exact integer semantics (equality, ordering, no fraction), and every
 *   date until the year 287,396 fits JavaScript's 2⁵³, which drizzle's number mode reads back exactly
 *   (node-postgres hands int8 over as a string; drizzle converts it). `double precision` would hold them
 *   too, but invites fractional milliseconds that SQLite's integers never have.
 * - `checksum`: the codec's CRC-32 is unsigned (up to 2³² − 1), past `integer`'s 2³¹ − 1: `bigint` too.
 * - other integers (versions, round numbers, counts, byte sizes): `integer`. Byte sizes stay far below 2³¹
 *   (a task upload is at most 256 MiB).
 * - `real` (SQLite's is 8 bytes): `double precision`, not PostgreSQL's 4-byte `real`.
 * - JSON: `jsonb`. It does not keep key order nor whitespace; nothing reads a stored JSON column as text.
 * - blobs: `bytea` (node-postgres reads it as a `Buffer`, as better-sqlite3 does).
 * - booleans: `boolean`. Enumerated text (a round's phase): `text` with the same TypeScript enum, not a
 *   PostgreSQL enum type, so that a new phase needs no `ALTER TYPE` (SQLite checks none either).
 * - `autoIncrement` ids: identity columns `BY DEFAULT` (never reused, like SQLite's AUTOINCREMENT; optional
 *   on insert, as in SQLite's insert type): `integer` for rounds (few, and referenced), `bigint` for the rows
 *   that grow with traffic (updates, async updates, signals), which a busy server could take past 2³¹.
 */

/** `bytea`, read and written as a `Buffer` (SQLite's `blob({ mode: 'buffer' })`). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

/** Epoch milliseconds (SQLite's `integer({ mode: 'number' })` times). */
const epochMs = (name: string) => bigint(name, { mode: 'number' });

// SQLite's `unixepoch('subsec')` is the statement's time, truncated to the millisecond: statement_timestamp().
const now = sql`(floor(extract(epoch from statement_timestamp()) * 1000))::bigint`;

export const tasks = pgTable('tasks', {
  id: text('id').primaryKey(),
  definition: jsonb('definition').notNull(),
  createdAt: epochMs('created_at').notNull().default(now),
  builtin: boolean('builtin').notNull().default(false),
  modelTopology: jsonb('model_topology'),
  uploadedModel: boolean('uploaded_model').notNull().default(false),
  shapes: jsonb('shapes').notNull(),
  parameterCount: integer('parameter_count').notNull(),
});

export const modelVersions = pgTable(
  'model_versions',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    weights: bytea('weights').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: epochMs('created_at').notNull().default(now),
    round: integer('round'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.version] })],
);

export { roundPhases, type RoundPhaseName } from './schema.js';

export const rounds = pgTable(
  'rounds',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    phase: text('phase', { enum: roundPhases }).notNull(),
    baseVersion: integer('base_version').notNull(),
    modelVersion: integer('model_version'),
    openedAt: epochMs('opened_at').notNull(),
    deadlineAt: epochMs('deadline_at'),
    closedAt: epochMs('closed_at'),
    participants: integer('participants').notNull().default(0),
    submitted: integer('submitted').notNull().default(0),
    samples: doublePrecision('samples').notNull().default(0),
    metrics: jsonb('metrics'),
    strategy: text('strategy').notNull(),
    extensions: integer('extensions').notNull().default(0),
    failureReason: text('failure_reason'),
    state: jsonb('state'),
    clipped: integer('clipped').notNull().default(0),
    epsilon: doublePrecision('epsilon'),
    delta: doublePrecision('delta'),
    accountant: jsonb('accountant'),
    optimizerState: bytea('optimizer_state'),
  },
  (t) => [uniqueIndex('rounds_task_number').on(t.taskId, t.number), index('rounds_phase').on(t.phase)],
);

export const participants = pgTable(
  'participants',
  {
    id: text('id').primaryKey(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    joinedAt: epochMs('joined_at').notNull(),
    firstRound: integer('first_round').notNull(),
    lastHeartbeatAt: epochMs('last_heartbeat_at').notNull(),
    leftAt: epochMs('left_at'),
    address: text('address'),
  },
  (t) => [uniqueIndex('participants_token').on(t.tokenHash), index('participants_task').on(t.taskId)],
);

export const updates = pgTable(
  'updates',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    roundId: integer('round_id')
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    samples: doublePrecision('samples').notNull(),
    metrics: jsonb('metrics'),
    bytes: integer('bytes').notNull(),
    receivedAt: epochMs('received_at').notNull(),
    delta: bytea('delta'),
    /** Always null here: SQLite's file of the update (schema.ts). */
    file: text('file'),
  },
  (t) => [uniqueIndex('updates_round_participant').on(t.roundId, t.participantId), index('updates_participant').on(t.participantId)],
);

export const asyncUpdates = pgTable(
  'async_updates',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    roundId: integer('round_id')
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    baseVersion: integer('base_version').notNull(),
    checksum: bigint('checksum', { mode: 'number' }).notNull(),
    staleness: integer('staleness').notNull(),
    weight: doublePrecision('weight').notNull(),
    samples: doublePrecision('samples').notNull(),
    metrics: jsonb('metrics'),
    delta: bytea('delta'),
    /** Always null here: SQLite's file of the update (schema.ts). */
    file: text('file'),
    bytes: integer('bytes').notNull(),
    receivedAt: epochMs('received_at').notNull(),
  },
  (t) => [index('async_updates_round').on(t.roundId), index('async_updates_participant').on(t.participantId)],
);

export const roundSkips = pgTable(
  'round_skips',
  {
    roundId: integer('round_id')
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    skippedAt: epochMs('skipped_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.roundId, t.participantId] }), index('round_skips_participant').on(t.participantId)],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
});

export const peerRounds = pgTable(
  'peer_rounds',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    phase: text('phase', { enum: ['gathering', 'running'] }).notNull(),
    openedAt: epochMs('opened_at').notNull(),
    gatherUntil: epochMs('gather_until').notNull(),
    startedAt: epochMs('started_at'),
    deadlineAt: epochMs('deadline_at'),
    members: jsonb('members').$type<string[]>(),
    groups: jsonb('groups').$type<Record<string, string[]>>(),
    topology: text('topology'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.number] })],
);

export const peerReady = pgTable(
  'peer_ready',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    round: integer('round').notNull(),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    readyAt: epochMs('ready_at').notNull(),
    metrics: jsonb('metrics'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.round, t.participantId] })],
);

export const peerSignals = pgTable(
  'peer_signals',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    fromId: text('from_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    toId: text('to_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    payload: jsonb('payload').notNull(),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [index('peer_signals_to').on(t.toId, t.id)],
);
