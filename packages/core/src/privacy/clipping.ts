/**
 * L2 clipping of a client's update, the first step of client-level DP-FedAvg (McMahan et al. 2018): once
 * every update has norm at most C, adding or removing one client changes the sum by at most C, which is
 * the sensitivity the Gaussian noise of `noise.ts` is scaled to.
 */
import { l2Norm } from '../weights/flat.js';

/** What {@link clipToNorm} returns. */
export interface ClipResult {
  /** The clipped copy (the input is never modified). Its L2 norm is at most the clipping norm. */
  update: Float32Array;
  /** The L2 norm of the update before clipping. */
  norm: number;
  /** Whether the update was scaled down (its norm was above the clipping norm). */
  clipped: boolean;
}

/**
 * Scales `update` down to L2 norm `clip` when its norm is larger (`u · min(1, C/‖u‖)`), as a copy. The result's
 * norm, summed in double precision over its float32 values, is guaranteed to be at most `clip`: if rounding to
 * float32 leaves it a hair above, the factor is shrunk until it is not.
 *
 * @throws RangeError when `clip` is not a positive finite number, or the update holds a NaN or an infinity.
 *
 * @example
 * const { update, norm, clipped } = clipToNorm(new Float32Array([3, 4]), 1);
 * // update ≈ [0.6, 0.8], norm = 5, clipped = true
 */
export function clipToNorm(update: Float32Array, clip: number): ClipResult {
  if (!(clip > 0) || !Number.isFinite(clip)) throw new RangeError(`the clipping norm must be a positive number (got ${clip})`);
  const norm = l2Norm(update);
  if (!Number.isFinite(norm)) throw new RangeError('the update holds a non-finite value: it cannot be clipped');
  if (norm <= clip) return { update: Float32Array.from(update), norm, clipped: false };
  let factor = clip / norm;
  let out = scaled(update, factor);
  // Float32 rounding may leave the norm a few ulps above C; a sensitivity bound must hold exactly.
  while (l2Norm(out) > clip) {
    factor *= 1 - 2 ** -24;
    out = scaled(update, factor);
  }
  return { update: out, norm, clipped: true };
}

function scaled(values: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * factor;
  return out;
}
