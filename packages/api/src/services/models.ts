import { and, desc, eq, sql } from 'drizzle-orm';
import { decodeWeights, encodeWeights, type FlatWeights } from '@disco/core';
import type { Db } from '../db/client.js';
import { modelVersions } from '../db/schema.js';
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

const infoColumns = {
  taskId: modelVersions.taskId,
  version: modelVersions.version,
  bytes: modelVersions.bytes,
  createdAt: modelVersions.createdAt,
  round: modelVersions.round,
};

/** Stores `weights` as version `version` of the task's global model (float32, our codec). */
export function storeVersion(db: Db, taskId: string, version: number, weights: FlatWeights, round: number | null, now = Date.now()): ModelVersionInfo {
  const encoded = encodeWeights(weights, { taskId, modelVersion: version, meta: round === null ? {} : { round } });
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  db.insert(modelVersions).values({ taskId, version, weights: bytes, bytes: bytes.length, createdAt: now, round }).run();
  return { taskId, version, bytes: bytes.length, createdAt: now, round };
}

/** Every version of a task, newest first. */
export function listVersions(db: Db, taskId: string): ModelVersionInfo[] {
  return db.select(infoColumns).from(modelVersions).where(eq(modelVersions.taskId, taskId)).orderBy(desc(modelVersions.version)).all();
}

export function latestVersion(db: Db, taskId: string): ModelVersionInfo | undefined {
  return prepared(db, 'latestVersion', (d) =>
    d.select(infoColumns).from(modelVersions).where(eq(modelVersions.taskId, sql.placeholder('taskId'))).orderBy(desc(modelVersions.version)).limit(1).prepare(),
  ).get({ taskId });
}

/** The encoded weights of a version (the latest when `version` is undefined), or a NOT_FOUND error. */
export function getEncodedVersion(db: Db, taskId: string, version?: number): { version: number; bytes: Uint8Array } {
  const columns = { version: modelVersions.version, weights: modelVersions.weights };
  const row =
    version === undefined
      ? prepared(db, 'latestEncodedVersion', (d) =>
          d.select(columns).from(modelVersions).where(eq(modelVersions.taskId, sql.placeholder('taskId'))).orderBy(desc(modelVersions.version)).limit(1).prepare(),
        ).get({ taskId })
      : prepared(db, 'encodedVersion', (d) =>
          d
            .select(columns)
            .from(modelVersions)
            .where(and(eq(modelVersions.taskId, sql.placeholder('taskId')), eq(modelVersions.version, sql.placeholder('version'))))
            .prepare(),
        ).get({ taskId, version });
  if (!row) {
    const latest = latestVersion(db, taskId);
    throw new DiscoApiError(
      'NOT_FOUND',
      latest ? `model version ${version} of task "${taskId}" does not exist (latest is ${latest.version})` : `task "${taskId}" has no model`,
    );
  }
  const buffer = row.weights;
  return { version: row.version, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
}

/** The decoded weights of a version. */
export function getVersionWeights(db: Db, taskId: string, version: number): FlatWeights {
  return decodeWeights(getEncodedVersion(db, taskId, version).bytes).weights;
}
