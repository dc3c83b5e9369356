import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The database of the hosted API. Everything that must survive a restart is here: tasks, every model
 * version, rounds (open, closed or failed), participants and the accepted updates of open rounds. The only
 * state outside it is a secure round's in-memory sum (`services/rounds/secure-rounds.ts`, decision 0015).
 *
 * Times are epoch milliseconds (`integer` with `mode: 'number'`), JSON columns hold zod-validated objects.
 */

const now = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;

export const tasks = sqliteTable('tasks', {
  id: text('id').primaryKey(),
  /** The validated task (defaults applied), as JSON. */
  definition: text('definition', { mode: 'json' }).notNull(),
  createdAt: integer('created_at', { mode: 'number' }).notNull().default(now),
  builtin: integer('builtin', { mode: 'boolean' }).notNull().default(false),
  /** The TF.js model topology (`model.json` without its weights manifest), built or uploaded. */
  modelTopology: text('model_topology', { mode: 'json' }),
  /** True when the model was uploaded with the task (model.json + weights.bin) rather than built. */
  uploadedModel: integer('uploaded_model', { mode: 'boolean' }).notNull().default(false),
  /** The named weight shapes every update and version of this task must have, as JSON. */
  shapes: text('shapes', { mode: 'json' }).notNull(),
  /** Number of scalars in the model (the sum of the shapes' sizes). */
  parameterCount: integer('parameter_count').notNull(),
});

export const modelVersions = sqliteTable(
  'model_versions',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** The global weights in the `@disco/core` codec (float32). */
    weights: blob('weights', { mode: 'buffer' }).notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: integer('created_at', { mode: 'number' }).notNull().default(now),
    /** The round that produced it; null for version 0 (the initial model). */
    round: integer('round'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.version] })],
);

// sharing, masking, unmasking: the steps of a secure round (decision 0010), between open and aggregating.
export const roundPhases = ['open', 'sharing', 'masking', 'unmasking', 'aggregating', 'closed', 'failed'] as const;
export type RoundPhaseName = (typeof roundPhases)[number];

export const rounds = sqliteTable(
  'rounds',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    phase: text('phase', { enum: roundPhases }).notNull(),
    /** The model version the round trains from (its updates are deltas against it). */
    baseVersion: integer('base_version').notNull(),
    /** The version it produced, once closed. */
    modelVersion: integer('model_version'),
    openedAt: integer('opened_at', { mode: 'number' }).notNull(),
    /** When the round closes with whoever submitted; null while nobody takes part (waiting). */
    deadlineAt: integer('deadline_at', { mode: 'number' }),
    closedAt: integer('closed_at', { mode: 'number' }),
    /** Active participants expected in the round, as counted when it closed or failed. */
    participants: integer('participants').notNull().default(0),
    submitted: integer('submitted').notNull().default(0),
    samples: real('samples').notNull().default(0),
    /** Sample-weighted mean of the clients' metrics (loss, accuracy, valLoss, valAccuracy). */
    metrics: text('metrics', { mode: 'json' }),
    strategy: text('strategy').notNull(),
    /** Times the deadline was pushed back because too few had submitted. */
    extensions: integer('extensions').notNull().default(0),
    failureReason: text('failure_reason'),
    /** Data of later phases (key exchange, unmasking), as JSON. */
    state: text('state', { mode: 'json' }),
    /** Updates the server clipped to the task's `privacy.clippingNorm` (central placement). */
    clipped: integer('clipped').notNull().default(0),
    /** Tasks with noise (decision 0011), closed rounds: ε spent up to and including this round, at `delta`. */
    epsilon: real('epsilon'),
    delta: real('delta'),
    /** Tasks with noise, closed rounds: core's `AccountantState` after this round (the next round starts from it). */
    accountant: text('accountant', { mode: 'json' }),
    /**
     * Tasks with a server optimizer (`aggregation.serverOptimizer`), the last closed round only: its state after
     * this round (core's `encodeServerOptimizerState`: float32 m and v, 4 or 8 bytes a parameter), which the
     * next round starts from; cleared from the previous round when a new one is stored, so that one is kept.
     */
    optimizerState: blob('optimizer_state', { mode: 'buffer' }),
  },
  (t) => [uniqueIndex('rounds_task_number').on(t.taskId, t.number), index('rounds_phase').on(t.phase)],
);

export const participants = sqliteTable(
  'participants',
  {
    id: text('id').primaryKey(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    /** SHA-256 (hex) of the bearer token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    joinedAt: integer('joined_at', { mode: 'number' }).notNull(),
    /** The first round this participant is waited for in. */
    firstRound: integer('first_round').notNull(),
    lastHeartbeatAt: integer('last_heartbeat_at', { mode: 'number' }).notNull(),
    leftAt: integer('left_at', { mode: 'number' }),
    address: text('address'),
  },
  (t) => [uniqueIndex('participants_token').on(t.tokenHash), index('participants_task').on(t.taskId)],
);

/**
 * One row per accepted update: who sent what for which round. `delta` holds a synchronous round's update
 * (float32, little-endian) from the transaction that accepts it until the one that closes (or fails) its
 * round, which clears it: whichever instance closes the round aggregates the stored deltas (decision 0015),
 * and a restart or a killed instance loses no accepted update. Secure rounds' rows (key advertisements) have none.
 */
export const updates = sqliteTable(
  'updates',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    roundId: integer('round_id')
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    samples: real('samples').notNull(),
    metrics: text('metrics', { mode: 'json' }),
    bytes: integer('bytes').notNull(),
    receivedAt: integer('received_at', { mode: 'number' }).notNull(),
    /** The update's delta (float32) until its round closes or fails, on PostgreSQL; null after (and for secure rounds' rows). */
    delta: blob('delta', { mode: 'buffer' }),
    /** SQLite: the file holding the update as it was received until its round closes or fails (decision 0016); null after. */
    file: text('file'),
  },
  // By participant: the last round each one sent an update for (maxMissedRounds).
  (t) => [uniqueIndex('updates_round_participant').on(t.roundId, t.participantId), index('updates_participant').on(t.participantId)],
);

/**
 * Asynchronous tasks (decision 0013): every accepted update, in the buffer of the version it goes into (its
 * `rounds` row). `delta` holds the update (float32, little-endian) from the transaction that accepts it until
 * the one that stores the version it went into, which clears it: a restart loses no accepted update. The
 * rest stays as the version's history (its contributors and their staleness).
 */
export const asyncUpdates = sqliteTable(
  'async_updates',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    roundId: integer('round_id')
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    /** The version the update was trained from. */
    baseVersion: integer('base_version').notNull(),
    /** The CRC-32 of its encoded payload (codec header): a retried submission is recognised and counted once. */
    checksum: integer('checksum').notNull(),
    /** Versions published between its base and its arrival (0: trained from the latest). */
    staleness: integer('staleness').notNull(),
    /** Its staleness weight (the task's weighting of `staleness`). */
    weight: real('weight').notNull(),
    samples: real('samples').notNull(),
    metrics: text('metrics', { mode: 'json' }),
    /** The update itself until its version is stored; null after. */
    delta: blob('delta', { mode: 'buffer' }),
    /** SQLite: the file holding the update as it was received, until its version is stored (decision 0016). */
    file: text('file'),
    bytes: integer('bytes').notNull(),
    receivedAt: integer('received_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('async_updates_round').on(t.roundId), index('async_updates_participant').on(t.participantId)],
);

/**
 * Participants that sit a round out (tasks with a sampling rate: their coin came up tails), so that the round
 * does not wait for them. A skip is not an update: it adds nothing to the round.
 */
export const roundSkips = sqliteTable(
  'round_skips',
  {
    roundId: integer('round_id')
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    skippedAt: integer('skipped_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.roundId, t.participantId] }), index('round_skips_participant').on(t.participantId)],
);

/** Server-wide settings, e.g. the built-in tasks already seeded once. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
});

// ── Decentralized tasks: signalling and round coordination (services/signalling.ts). Metadata only: ──
// ── the weights travel between peers and never reach the server.                                   ──

/** A round of a decentralized task: who takes part, the group each peer aggregates with, its deadline. */
export const peerRounds = sqliteTable(
  'peer_rounds',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    /** `gathering`: peers announce they are ready; `running`: members fixed, training and exchanging. */
    phase: text('phase', { enum: ['gathering', 'running'] }).notNull(),
    openedAt: integer('opened_at', { mode: 'number' }).notNull(),
    /** When a gathering round starts with whoever is ready (if at least the task's minimum). */
    gatherUntil: integer('gather_until', { mode: 'number' }).notNull(),
    startedAt: integer('started_at', { mode: 'number' }),
    /** When the members stop waiting for each other's models and aggregate what they received. */
    deadlineAt: integer('deadline_at', { mode: 'number' }),
    /** Participant ids taking part, sorted. */
    members: text('members', { mode: 'json' }).$type<string[]>(),
    /** Each member's neighbours (whose models it aggregates with its own). */
    groups: text('groups', { mode: 'json' }).$type<Record<string, string[]>>(),
    topology: text('topology'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.number] })],
);

/** A peer's announcement that it holds the model of round − 1 and is ready to train `round`. */
export const peerReady = sqliteTable(
  'peer_ready',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    round: integer('round').notNull(),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    readyAt: integer('ready_at', { mode: 'number' }).notNull(),
    /** The peer's metrics after aggregating the previous round (reported for the round history). */
    metrics: text('metrics', { mode: 'json' }),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.round, t.participantId] })],
);

/** WebRTC signals waiting for their addressee's subscription (deleted once delivered, or when stale). */
export const peerSignals = sqliteTable(
  'peer_signals',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    fromId: text('from_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    toId: text('to_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    payload: text('payload', { mode: 'json' }).notNull(),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('peer_signals_to').on(t.toId, t.id)],
);
