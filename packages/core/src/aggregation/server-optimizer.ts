import type { ServerOptimizerName } from '../task/schema.js';
import { AggregationError } from './strategy.js';

/**
 * A server optimizer as a task's `aggregation.serverOptimizer` names it. Unset fields take
 * {@link serverOptimizerDefaults}.
 */
export interface ServerOptimizerSettings {
  name: ServerOptimizerName;
  /** The server learning rate η. */
  learningRate?: number;
  /** β (momentum) or β₁ (adam, yogi): how much of the previous steps' direction is kept. */
  momentum?: number;
  /** β₂ (adam, yogi): how much of the previous squared deltas is kept. */
  beta2?: number;
  /** τ (adam, yogi): the adaptivity floor added to √v, and the start of v (v₋₁ = τ²). */
  epsilon?: number;
  /** Nesterov momentum (momentum only): step = η·(β·m + Δ) after m ← β·m + Δ. */
  nesterov?: boolean;
}

/**
 * What a server optimizer carries from one round to the next, as plain `Float32Array`s so that a server can
 * store them beside the model: `m` (momentum, first moment) and `v` (second moment, adam and yogi). Empty for
 * sgd and before the first round.
 */
export interface ServerOptimizerState {
  m?: Float32Array;
  v?: Float32Array;
}

/**
 * The defaults, from Reddi et al. (2021): β₁ = 0.9, β₂ = 0.99, τ = 10⁻³; η = 1 for sgd and momentum (sgd
 * with η = 1 is plain FedAvg), 10⁻² for the adaptive ones, whose steps are about η per coordinate.
 */
export const serverOptimizerDefaults: Record<ServerOptimizerName, Required<Omit<ServerOptimizerSettings, 'name' | 'nesterov'>>> = {
  sgd: { learningRate: 1, momentum: 0, beta2: 0, epsilon: 0 },
  momentum: { learningRate: 1, momentum: 0.9, beta2: 0, epsilon: 0 },
  adam: { learningRate: 0.01, momentum: 0.9, beta2: 0.99, epsilon: 1e-3 },
  yogi: { learningRate: 0.01, momentum: 0.9, beta2: 0.99, epsilon: 1e-3 },
};

/**
 * One server step of FedOpt (Reddi et al., 2021, Algorithm 2), from the round's aggregate `delta` (the mean
 * of `local − global`) to the `step` to add to the global model, given the `state` the previous round
 * returned (or none at the first round). Pure: neither `delta` nor `state` is modified.
 * - `sgd`: step = η·Δ (η = 1: today's FedAvg).
 * - `momentum` (FedAvgM, Hsu et al. 2019): m ← β·m + Δ; step = η·m, or with `nesterov` step = η·(β·m + Δ):
 *   the version published is then the look-ahead point that clients train from, which is what decision 0007's
 *   client-side momentum computed (each client started from `global + β·(global − previous)`).
 * - `adam`: m ← β₁·m + (1 − β₁)·Δ; v ← β₂·v + (1 − β₂)·Δ²; step = η·m / (√v + τ).
 * - `yogi`: as adam but v ← v − (1 − β₂)·Δ²·sign(v − Δ²), so that v grows no faster than adam's and shrinks
 *   slowly.
 * As in the paper, m starts at 0, v at τ², and adam's moments are not bias-corrected.
 *
 * @example
 * ```ts
 * let state: ServerOptimizerState = {};
 * for (const delta of rounds) {
 *   const result = applyServerOptimizer({ name: 'adam', learningRate: 0.01 }, delta, state);
 *   global = global.map((w, i) => w + result.step[i]);
 *   state = result.state; // store with the model version
 * }
 * ```
 */
export function applyServerOptimizer(
  settings: ServerOptimizerSettings,
  delta: Float32Array,
  state: ServerOptimizerState = {},
): { step: Float32Array; state: ServerOptimizerState } {
  const { name } = settings;
  const defaults = serverOptimizerDefaults[name];
  if (!defaults) throw new AggregationError(`unknown server optimizer "${name}" (available: ${Object.keys(serverOptimizerDefaults).join(', ')})`);
  const { learningRate: lr, momentum: beta1, beta2, epsilon: tau } = { ...defaults, ...definedOnly(settings) };
  check(lr > 0 && Number.isFinite(lr), `learningRate must be a positive finite number, got ${lr}`);
  check(beta1 >= 0 && beta1 < 1, `momentum must be in [0, 1), got ${beta1}`);
  check(beta2 >= 0 && beta2 < 1, `beta2 must be in [0, 1), got ${beta2}`);
  for (const key of ['m', 'v'] as const) {
    const held = state[key];
    check(!held || held.length === delta.length, `the server optimizer's state ${key} has ${held?.length} values, expected ${delta.length}`);
  }
  const n = delta.length;
  const step = new Float32Array(n);
  if (name === 'sgd') {
    for (let i = 0; i < n; i++) step[i] = lr * delta[i];
    return { step, state: {} };
  }
  const m = new Float32Array(n);
  const previousM = state.m ?? new Float32Array(n);
  if (name === 'momentum') {
    for (let i = 0; i < n; i++) {
      m[i] = beta1 * previousM[i] + delta[i];
      step[i] = settings.nesterov ? lr * (beta1 * m[i] + delta[i]) : lr * m[i];
    }
    return { step, state: { m } };
  }
  check(tau > 0 && Number.isFinite(tau), `epsilon must be a positive finite number, got ${tau}`);
  const v = new Float32Array(n);
  const previousV = state.v ?? new Float32Array(n).fill(tau * tau);
  for (let i = 0; i < n; i++) {
    const d = delta[i];
    const mi = beta1 * previousM[i] + (1 - beta1) * d;
    const vi = name === 'adam' ? beta2 * previousV[i] + (1 - beta2) * d * d : previousV[i] - (1 - beta2) * d * d * Math.sign(previousV[i] - d * d);
    m[i] = mi;
    v[i] = vi;
    step[i] = (lr * mi) / (Math.sqrt(vi) + tau);
  }
  return { step, state: { m, v } };
}

function definedOnly(settings: ServerOptimizerSettings): Partial<ServerOptimizerSettings> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new AggregationError(`server optimizer: ${message}`);
}

/** Bytes before the arrays in {@link encodeServerOptimizerState}: format, which arrays, their length. */
const STATE_HEADER_BYTES = 8;
const STATE_FORMAT = 1;

/**
 * A server optimizer's state as bytes, for a database blob (an adam state of a 1M-parameter model is 8 MB; as
 * JSON numbers it would be several times that): byte 0 the format (1), byte 1 which arrays follow (bit 0 `m`,
 * bit 1 `v`), bytes 4–7 their length n (uint32, little-endian), then `m` and `v` as little-endian float32s.
 * An empty state (sgd, or before the first round) is 8 bytes.
 */
export function encodeServerOptimizerState(state: ServerOptimizerState): Uint8Array {
  const { m, v } = state;
  const n = m?.length ?? v?.length ?? 0;
  if (m && v && m.length !== v.length) throw new AggregationError(`server optimizer: state m has ${m.length} values but v has ${v.length}`);
  const arrays = [m, v].filter((a): a is Float32Array => !!a);
  const bytes = new Uint8Array(STATE_HEADER_BYTES + 4 * n * arrays.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, STATE_FORMAT);
  view.setUint8(1, (m ? 1 : 0) | (v ? 2 : 0));
  view.setUint32(4, n, true);
  let offset = STATE_HEADER_BYTES;
  for (const array of arrays) {
    for (let i = 0; i < n; i++, offset += 4) view.setFloat32(offset, array[i], true);
  }
  return bytes;
}

/** The state {@link encodeServerOptimizerState} wrote; throws on bytes of another format or length. */
export function decodeServerOptimizerState(bytes: Uint8Array): ServerOptimizerState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < STATE_HEADER_BYTES || view.getUint8(0) !== STATE_FORMAT)
    throw new AggregationError(`server optimizer: the stored state is not in format ${STATE_FORMAT} (${bytes.byteLength} bytes)`);
  const flags = view.getUint8(1);
  const n = view.getUint32(4, true);
  const keys = (['m', 'v'] as const).filter((_, k) => flags & (1 << k));
  if (bytes.byteLength !== STATE_HEADER_BYTES + 4 * n * keys.length)
    throw new AggregationError(`server optimizer: the stored state has ${bytes.byteLength} bytes, expected ${STATE_HEADER_BYTES + 4 * n * keys.length}`);
  const state: ServerOptimizerState = {};
  let offset = STATE_HEADER_BYTES;
  for (const key of keys) {
    const array = new Float32Array(n);
    for (let i = 0; i < n; i++, offset += 4) array[i] = view.getFloat32(offset, true);
    state[key] = array;
  }
  return state;
}
