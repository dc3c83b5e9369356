/**
 * Staleness in asynchronous (FedBuff) tasks, decision 0013. One definition, used by the server, the in-memory
 * federation and the client:
 *
 * An update trained from version `b` and buffered for version `V` (always `latest + 1` at the moment it is
 * accepted, so staleness is fixed on arrival) has staleness **s = (V − 1) − b = latest − b**: how many versions
 * were published after its base model. 0 means trained from the latest version.
 */
import type { StalenessWeighting, Task } from '../task/schema.js';

/** A task's asynchronous settings with their defaults (the schema's `async` object). */
export interface AsyncSettings {
  /** K: a version is aggregated from every K accepted updates. */
  bufferSize: number;
  /** An update whose staleness is above this is refused (`STALE_UPDATE`). */
  maxStaleness: number;
  stalenessWeighting: StalenessWeighting;
  /** a in (1 + s)^-a (polynomial weighting). */
  stalenessExponent: number;
}

/** The defaults the schema applies (FedBuff's paper: K = 10 at scale; 4 suits a handful of browsers). */
export const DEFAULT_ASYNC_SETTINGS: AsyncSettings = { bufferSize: 4, maxStaleness: 10, stalenessWeighting: 'polynomial', stalenessExponent: 0.5 };

/** The task's {@link AsyncSettings}, defaults filled in (a task parsed by the schema has them all already). */
export function asyncSettings(task: { async?: Partial<AsyncSettings> }): AsyncSettings {
  return { ...DEFAULT_ASYNC_SETTINGS, ...Object.fromEntries(Object.entries(task.async ?? {}).filter(([, v]) => v !== undefined)) };
}

/** True for a task that trains asynchronously (federated, `mode: 'async'`). */
export function isAsync(task: Pick<Task, 'mode'> | { mode?: string }): boolean {
  return task.mode === 'async';
}

/**
 * Staleness of an update trained from `baseVersion` when `latestVersion` is the newest published version
 * (see the module's description): `latestVersion − baseVersion`.
 *
 * @example
 * ```ts
 * stalenessOf(7, 10); // 3: versions 8, 9 and 10 were published after its base model
 * ```
 */
export function stalenessOf(baseVersion: number, latestVersion: number): number {
  if (!Number.isInteger(baseVersion) || !Number.isInteger(latestVersion) || baseVersion < 0 || baseVersion > latestVersion)
    throw new RangeError(`an update's base version must be a published version, 0 to ${latestVersion}; got ${baseVersion}`);
  return latestVersion - baseVersion;
}

/**
 * The weight of an update of staleness `s` relative to a fresh one, in (0, 1]: `polynomial`,
 * (1 + s)^-a (FedBuff's choice, 1/√(1 + s) with a = 0.5); `constant`, 1 whatever its age.
 *
 * @example
 * ```ts
 * stalenessWeight(3, { stalenessWeighting: 'polynomial', stalenessExponent: 0.5 }); // 0.5 = 1/√4
 * stalenessWeight(3, { stalenessWeighting: 'constant', stalenessExponent: 0.5 });   // 1
 * ```
 */
export function stalenessWeight(s: number, settings: Pick<AsyncSettings, 'stalenessWeighting' | 'stalenessExponent'>): number {
  if (!Number.isInteger(s) || s < 0) throw new RangeError(`staleness must be a whole number of versions, 0 or more; got ${s}`);
  if (settings.stalenessWeighting === 'constant') return 1;
  return (1 + s) ** -settings.stalenessExponent;
}

/**
 * `delta` scaled by an update's staleness weight, as a new array: how staleness enters every strategy
 * (FedBuff's s(τ)·Δ). FedAvg then averages the scaled deltas normalised by the updates' samples (not by the
 * scaled weights, so a stale update really counts less); the robust rules combine the scaled deltas as they
 * are (a stale update is pulled towards 0, never pushed further).
 */
export function scaleByStaleness(delta: Float32Array, weight: number): Float32Array {
  if (!(weight > 0 && weight <= 1)) throw new RangeError(`a staleness weight is in (0, 1], got ${weight}`);
  if (weight === 1) return delta.slice();
  const out = new Float32Array(delta.length);
  for (let i = 0; i < out.length; i++) out[i] = delta[i] * weight;
  return out;
}
