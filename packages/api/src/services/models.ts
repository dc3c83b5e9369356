import { and, desc, eq, sql } from 'drizzle-orm';
import { decodeWeights, encodeWeights, type FlatWeights } from '@disco/core';
import type { Db, Tables } from '../db/client.js';
import { DiscoApiError } from '@disco/core';
import { prepared } from './prepared.js';

/** Metadata of one stored global model version. */
export interface ModelVersionInfo {
  taskId: string;
  version: number;
  /** Size of the encoded weights in bytes. */
  bytes: number;
  createdAt: number;
  /** The round that produced it; null for the initial model (version 0). */
  round: number | null;
}

const infoColumns = ({ modelVersions }: Tables) => ({
  taskId: modelVersions.taskId,
  version: modelVersions.version,
  bytes: modelVersions.bytes,
  createdAt: modelVersions.createdAt,
  round: modelVersions.round,
});

/** Stores `weights` as version `version` of the task's global model (float32, our codec). */
export async function storeVersion(db: Db, taskId: string, version: number, weights: FlatWeights, round: number | null, now = Date.now()): Promise<ModelVersionInfo> {
  const encoded = encodeWeights(weights, { taskId, modelVersion: version, meta: round === null ? {} : { round } });
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  await db.orm.insert(db.tables.modelVersions).values({ taskId, version, weights: bytes, bytes: bytes.length, createdAt: now, round });
  return { taskId, version, bytes: bytes.length, createdAt: now, round };
}

/** Every version of a task, newest first. */
export async function listVersions(db: Db, taskId: string): Promise<ModelVersionInfo[]> {
  const { orm, tables: t } = db;
  return orm.select(infoColumns(t)).from(t.modelVersions).where(eq(t.modelVersions.taskId, taskId)).orderBy(desc(t.modelVersions.version));
}

export async function latestVersion(db: Db, taskId: string): Promise<ModelVersionInfo | undefined> {
  const [row] = await prepared(db, 'latestVersion', ({ orm, tables: t }) =>
    orm
      .select(infoColumns(t))
      .from(t.modelVersions)
      .where(eq(t.modelVersions.taskId, sql.placeholder('taskId')))
      .orderBy(desc(t.modelVersions.version))
      .limit(1)
      .prepare(),
  ).execute({ taskId });
  return row;
}

/** The encoded weights of a version (the latest when `version` is undefined), or a NOT_FOUND error. */
export async function getEncodedVersion(db: Db, taskId: string, version?: number): Promise<{ version: number; bytes: Uint8Array }> {
  const [row] =
    version === undefined
      ? await prepared(db, 'latestEncodedVersion', ({ orm, tables: t }) =>
          orm
            .select({ version: t.modelVersions.version, weights: t.modelVersions.weights })
            .from(t.modelVersions)
            .where(eq(t.modelVersions.taskId, sql.placeholder('taskId')))
            .orderBy(desc(t.modelVersions.version))
            .limit(1)
            .prepare(),
        ).execute({ taskId })
      : await prepared(db, 'encodedVersion', ({ orm, tables: t }) =>
          orm
            .select({ version: t.modelVersions.version, weights: t.modelVersions.weights })
            .from(t.modelVersions)
            .where(and(eq(t.modelVersions.taskId, sql.placeholder('taskId')), eq(t.modelVersions.version, sql.placeholder('version'))))
            .prepare(),
        ).execute({ taskId, version });
  if (!row) {
    const latest = await latestVersion(db, taskId);
    throw new DiscoApiError(
      'NOT_FOUND',
      latest ? `model version ${version} of task "${taskId}" does not exist (latest is ${latest.version})` : `task "${taskId}" has no model`,
    );
  }
  const buffer = row.weights;
  return { version: row.version, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
}

/** The decoded weights of a version. */
export async function getVersionWeights(db: Db, taskId: string, version: number): Promise<FlatWeights> {
  return decodeWeights((await getEncodedVersion(db, taskId, version)).bytes).weights;
}
