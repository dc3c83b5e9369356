import { decodeWeights, readWeightsHeader } from '@disco/core';
import { and, eq, inArray, isNotNull, or } from 'drizzle-orm';
import { afterCommit, updateFiles, type Db } from '../../db/client.js';
import { unfinishedRounds } from './queries.js';

/**
 * Where an accepted update waits for the close of its round (or its asynchronous buffer), on either engine
 * (decisions 0015 and 0016): on SQLite a file holding the update as it was received (`UpdateFiles`), which its
 * row names (`file`); on PostgreSQL, shared by every instance, its delta in its row (`delta`, float32).
 * Synchronous rounds (`updates`) and asynchronous buffers (`async_updates`) keep theirs alike.
 */
export type UpdateTable = 'updates' | 'async_updates';

/** The columns of an update's row that hold it: one of them set. */
export interface KeptUpdate {
  delta: Buffer | null;
  file: string | null;
}

/** A row whose update is read back. */
export interface StoredUpdateRow {
  id: number;
  file: string | null;
}

/** A round's updates could not be read back: the round fails with this message (a lost update). */
export class LostUpdate extends Error {}

/**
 * Keeps a checked update before the transaction that records it: on SQLite, writes `message` (the body as
 * received) to a new file; on PostgreSQL, the row will hold `delta`. Returns the row's columns, and `discard`,
 * to call when that transaction does not record the update (the file is removed; nothing to do on PostgreSQL).
 * `delta` may be a view of the request body: it is copied when the row is inserted, within the caller's call.
 */
export async function keepUpdate(db: Db, roundId: number, message: Uint8Array, delta: Float32Array): Promise<{ columns: KeptUpdate; discard: () => Promise<void> }> {
  const files = updateFiles(db);
  if (!files) return { columns: { delta: Buffer.from(delta.buffer, delta.byteOffset, delta.byteLength), file: null }, discard: () => Promise.resolve() };
  const file = await files.write(roundId, message);
  return { columns: { delta: null, file }, discard: () => files.remove(file) };
}

/**
 * Lets go of a round's kept updates, in the transaction that closes or fails it: their rows no longer hold
 * them, and on SQLite their files are removed once that transaction has committed.
 */
export async function releaseKeptUpdates(tx: Db, table: UpdateTable, roundId: number): Promise<void> {
  const rows = table === 'updates' ? tx.tables.updates : tx.tables.asyncUpdates;
  await tx.orm.update(rows).set({ delta: null, file: null }).where(and(eq(rows.roundId, roundId), or(isNotNull(rows.delta), isNotNull(rows.file))));
  afterCommit(tx, () => removeRoundFiles(tx, [roundId]));
}

/** Removes the files of rounds whose rows no longer name them (after a close's commit, or a task's deletion). */
export function removeRoundFiles(db: Db, roundIds: readonly number[]): void {
  const files = updateFiles(db);
  for (const roundId of files ? roundIds : [])
    void files!.removeRound(roundId).catch((error) => console.error(`disco: removing the update files of round ${roundId} failed`, error));
}

/**
 * SQLite, at a server's start: removes the update files that no unfinished round's row names (left by a crash
 * between a file's write and its row's commit, or between a close's commit and its files' removal).
 */
export async function sweepUpdateFiles(db: Db): Promise<void> {
  const files = updateFiles(db);
  if (!files) return;
  const live = new Map((await unfinishedRounds(db)).map((round) => [round.id, new Set<string>()]));
  if (live.size) {
    const { orm, tables: t } = db;
    for (const table of [t.updates, t.asyncUpdates]) {
      const rows = await orm.select({ roundId: table.roundId, file: table.file }).from(table).where(and(inArray(table.roundId, [...live.keys()]), isNotNull(table.file)));
      for (const row of rows) live.get(row.roundId)?.add(row.file!);
    }
  }
  files.sweep(live);
}

/**
 * The deltas of `rows`, in their order, each a Float32Array valid until the next one is asked for (buffers are
 * reused; a consumer adds or copies each before going on). Memory holds two updates at a time. SQLite: each file
 * read while the previous delta is being added; a file this process wrote is the update it checked, read
 * as it is; one from before a restart is checked again in full (checksum, finite values). PostgreSQL: one
 * query per `PREFETCH` rows. Throws {@link LostUpdate} for one that is missing or damaged.
 */
export async function* storedDeltas(db: Db, table: UpdateTable, rows: readonly StoredUpdateRow[]): AsyncGenerator<Float32Array> {
  const files = updateFiles(db);
  if (!files) {
    for (let start = 0; start < rows.length; start += PREFETCH) {
      const batch = rows.slice(start, start + PREFETCH);
      const found = new Map((await pgDeltas(db, table, batch.map((row) => row.id))).map((row) => [row.id, row.delta]));
      for (const row of batch) {
        const bytes = found.get(row.id);
        if (!bytes) throw new LostUpdate(lostMessage);
        yield float32View(bytes);
      }
    }
    return;
  }
  const buffers = [{ bytes: Buffer.alloc(0) }, { bytes: Buffer.alloc(0) }];
  const read = (index: number) => {
    const name = rows[index].file;
    return name ? files.read(name, buffers[index % 2]) : Promise.resolve(undefined);
  };
  let next = rows.length ? read(0) : undefined;
  try {
    for (let index = 0; index < rows.length; index++) {
      const bytes = await next!;
      // Read ahead into the other buffer while this delta is being added.
      next = index + 1 < rows.length ? read(index + 1) : undefined;
      const name = rows[index].file;
      if (!bytes || !name) throw new LostUpdate(lostMessage);
      yield deltaOf(bytes, files.wroteItself(name));
    }
  } finally {
    // Left early (a lost update, a consumer's error): the read ahead is not wanted, nor is its failure.
    next?.catch(() => {});
  }
}

/**
 * PostgreSQL rows fetched per query at a close. One: node-postgres receives a bytea as hex text (8 MB for 1M
 * parameters) then decodes it, so each row in flight costs ~3× its size in memory (4 at a time: +187 MB, measured).
 */
const PREFETCH = 1;

const lostMessage = 'an update of this round was lost (its stored copy is missing or damaged: a server restart after a power loss?)';

async function pgDeltas(db: Db, table: UpdateTable, ids: number[]): Promise<{ id: number; delta: Buffer | null }[]> {
  const rows = table === 'updates' ? db.tables.updates : db.tables.asyncUpdates;
  return db.orm.select({ id: rows.id, delta: rows.delta }).from(rows).where(inArray(rows.id, ids));
}

function float32View(bytes: Uint8Array): Float32Array {
  // A Buffer a driver returns need not be 4-byte aligned (a slice of a larger read): copied then.
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}

/** The delta a stored message holds: as it is when this process checked it, through every check otherwise. */
function deltaOf(message: Uint8Array, checked: boolean): Float32Array {
  try {
    if (checked) {
      const { header, payloadStart } = readWeightsHeader(message);
      if (header.dtype === 'float32' && (message.byteOffset + payloadStart) % 4 === 0) return new Float32Array(message.buffer, message.byteOffset + payloadStart, (message.byteLength - payloadStart) / 4);
    }
    return decodeWeights(message, { view: true }).weights.values;
  } catch (error) {
    throw new LostUpdate(`${lostMessage}: ${(error as Error).message}`);
  }
}
