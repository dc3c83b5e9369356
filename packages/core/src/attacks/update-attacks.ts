// What a Byzantine participant sends instead of its honest update: pure functions over flat update vectors
// (the delta local − global a federated client uploads). The participants that run them are real ones
// (`byzantine-api.ts` wraps the port they upload through); nothing here touches an aggregator.
import { gaussian, cryptoRandom } from '../privacy/noise.js';

/** The attacks on updates. `label-flip` acts on the data instead (`flipLabels`), so it is not here. */
export const updateAttacks = ['sign-flip', 'gaussian', 'alie', 'ipm', 'inflate-samples'] as const;
export type UpdateAttackName = (typeof updateAttacks)[number];

/** Every attack `disco simulate --attack` knows. */
export const attackNames = [...updateAttacks, 'label-flip'] as const;
export type AttackName = (typeof attackNames)[number];

/** The default strength of each attack (`--attack-param`), as the papers use it. */
export const defaultAttackParameter: Record<AttackName, number> = {
  /** The honest update times −10: large enough that a plain mean moves the wrong way. */
  'sign-flip': 10,
  /** Standard deviation of the noise sent in place of the update. */
  gaussian: 1,
  /** ALIE: 0 means "the paper's z_max for n and f" ({@link alieZ}); any other value is z itself. */
  alie: 0,
  /** IPM: ε in −ε × (mean of the honest updates). Xie et al. 2020 use 0.1 against Krum-like rules, large ε against the mean. */
  ipm: 0.5,
  /** The sign-flip factor of the update sent with the largest sample count the task allows. */
  'inflate-samples': 1,
  /** Unused: labels y become (classes − 1 − y). */
  'label-flip': 0,
};

/** −s × the honest update. */
export function signFlip(update: Float32Array, scale: number): Float32Array {
  return update.map((v) => -scale * v);
}

/** Independent N(0, std²) noise in place of the update. `random` is seeded in tests. */
export function gaussianUpdate(length: number, std: number, random = cryptoRandom()): Float32Array {
  const normal = gaussian(random);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = std * normal();
  return out;
}

/** Per-coordinate mean and (population) standard deviation of the colluders' honest updates. */
export function coordinateMoments(updates: readonly Float32Array[]): { mean: Float64Array; std: Float64Array } {
  const length = updates[0]?.length ?? 0;
  const mean = new Float64Array(length);
  const std = new Float64Array(length);
  for (const u of updates) for (let i = 0; i < length; i++) mean[i] += u[i] / updates.length;
  for (const u of updates) for (let i = 0; i < length; i++) std[i] += (u[i] - mean[i]) ** 2 / updates.length;
  for (let i = 0; i < length; i++) std[i] = Math.sqrt(std[i]);
  return { mean, std };
}

/**
 * "A little is enough" (Baruch, Baruch and Goldberg 2019): every attacker sends μ − z·σ, coordinate-wise, where μ
 * and σ are estimated from the attackers' own honest updates. Small enough per coordinate to pass median- and
 * Krum-like rules, consistent enough across attackers to drag the aggregate.
 */
export function alie(honest: readonly Float32Array[], z: number): Float32Array {
  const { mean, std } = coordinateMoments(honest);
  return Float32Array.from(mean, (m, i) => m - z * std[i]);
}

/**
 * The paper's z_max for n participants of which f attack: with s = ⌊n/2 + 1⌋ − f honest participants needed to
 * join the attackers for a majority, z = Φ⁻¹((n − s) / n).
 *
 * @example alieZ(8, 2); // s = 3, Φ⁻¹(5/8) ≈ 0.3186
 */
export function alieZ(n: number, f: number): number {
  const s = Math.floor(n / 2 + 1) - f;
  return inverseNormalCdf((n - s) / n);
}

/** Inner-product manipulation (Xie, Koyejo and Gupta 2020): −ε × the mean of the honest updates. */
export function ipm(honest: readonly Float32Array[], epsilon: number): Float32Array {
  const { mean } = coordinateMoments(honest);
  return Float32Array.from(mean, (m) => -epsilon * m);
}

/**
 * Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error below 1.2e-9), for
 * ALIE's z: no statistics library is worth a dependency for one function.
 */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`the normal quantile needs 0 < p < 1 (got ${p})`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
