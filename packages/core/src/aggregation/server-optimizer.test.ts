import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyServerOptimizer, decodeServerOptimizerState, encodeServerOptimizerState } from './server-optimizer.js';

const f32 = (...values: number[]) => Float32Array.from(values);
const close = (actual: Float32Array | undefined, expected: number[]) => {
  assert.ok(actual, 'missing array');
  assert.equal(actual.length, expected.length);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-6, `value ${i}: ${value}, expected ${expected[i]}`));
};

test('sgd with the default learning rate 1 is FedAvg: the step is the aggregate delta', () => {
  const delta = f32(0.5, -2);
  const { step, state } = applyServerOptimizer({ name: 'sgd' }, delta);
  assert.deepEqual(Array.from(step), [0.5, -2]);
  assert.notEqual(step, delta);
  assert.deepEqual(state, {});
});

test('sgd scales the delta by η: η = 0.5, Δ = [2, −4] → [1, −2]', () => {
  assert.deepEqual(Array.from(applyServerOptimizer({ name: 'sgd', learningRate: 0.5 }, f32(2, -4)).step), [1, -2]);
});

test('momentum (FedAvgM) carries β × the previous steps: m ← β·m + Δ, step = η·m', () => {
  const settings = { name: 'momentum', learningRate: 0.1, momentum: 0.5 } as const;
  // Round 1: m = [2, −4], step = 0.1·m = [0.2, −0.4].
  const first = applyServerOptimizer(settings, f32(2, -4));
  close(first.step, [0.2, -0.4]);
  close(first.state.m, [2, -4]);
  // Round 2, Δ = [1, 1]: m = 0.5·[2, −4] + [1, 1] = [2, −1], step = [0.2, −0.1].
  const second = applyServerOptimizer(settings, f32(1, 1), first.state);
  close(second.step, [0.2, -0.1]);
  close(first.state.m, [2, -4]); // the state passed in is not modified
});

// β₁ = 0.5, β₂ = 0.75, τ = 0.5 (so v₋₁ = τ² = 0.25), η = 1; Δ₁ = [2, −0.5], Δ₂ = [2, 0].
const adaptive = { learningRate: 1, momentum: 0.5, beta2: 0.75, epsilon: 0.5 };

test('adam: two steps by hand', () => {
  // Round 1: m = 0.5·0 + 0.5·[2, −0.5] = [1, −0.25]; v = 0.75·0.25 + 0.25·[4, 0.25] = [1.1875, 0.25];
  // step = m / (√v + τ) = [1 / (1.0897247 + 0.5), −0.25 / (0.5 + 0.5)] = [0.6290397, −0.25].
  const first = applyServerOptimizer({ name: 'adam', ...adaptive }, f32(2, -0.5));
  close(first.state.m, [1, -0.25]);
  close(first.state.v, [1.1875, 0.25]);
  close(first.step, [1 / (Math.sqrt(1.1875) + 0.5), -0.25]);
  assert.ok(Math.abs(first.step[0] - 0.6290397) < 1e-6);
  // Round 2: m = 0.5·[1, −0.25] + 0.5·[2, 0] = [1.5, −0.125]; v = 0.75·[1.1875, 0.25] + 0.25·[4, 0] = [1.890625, 0.1875];
  // step = [1.5 / (1.375 + 0.5), −0.125 / (0.4330127 + 0.5)] = [0.8, −0.1339746].
  const second = applyServerOptimizer({ name: 'adam', ...adaptive }, f32(2, 0), first.state);
  close(second.state.v, [1.890625, 0.1875]);
  close(second.step, [0.8, -0.1339746]);
});

test('yogi: v moves by (1 − β₂)·Δ² towards Δ², by sign, unlike adam', () => {
  // Round 1: v = 0.25 − 0.25·[4, 0.25]·sign(0.25 − [4, 0.25]) = 0.25 − [1·(−1), 0.0625·0] = [1.25, 0.25];
  // m = [1, −0.25]; step = [1 / (√1.25 + 0.5), −0.25 / 1] = [0.618034, −0.25].
  const first = applyServerOptimizer({ name: 'yogi', ...adaptive }, f32(2, -0.5));
  close(first.state.v, [1.25, 0.25]);
  close(first.step, [0.618034, -0.25]);
  // Round 2, Δ = [2, 0]: v = [1.25 + 0.25·4, 0.25] = [2.25, 0.25] (adam: 1.890625); m = [1.5, −0.125];
  // step = [1.5 / (1.5 + 0.5), −0.125 / (0.5 + 0.5)] = [0.75, −0.125].
  const second = applyServerOptimizer({ name: 'yogi', ...adaptive }, f32(2, 0), first.state);
  close(second.state.v, [2.25, 0.25]);
  close(second.step, [0.75, -0.125]);
  // Once v exceeds Δ², yogi lowers it by (1 − β₂)·Δ²: Δ = [1, 0] → v = [2.25 − 0.25, 0.25] = [2, 0.25].
  close(applyServerOptimizer({ name: 'yogi', ...adaptive }, f32(1, 0), second.state).state.v, [2, 0.25]);
});

test('the state survives a round trip through bytes, as a server stores it (8 header bytes + 4 per value)', () => {
  const first = applyServerOptimizer({ name: 'adam', ...adaptive }, f32(2, -0.5));
  const bytes = encodeServerOptimizerState(first.state);
  assert.equal(bytes.byteLength, 8 + 4 * 2 * 2);
  const restored = decodeServerOptimizerState(bytes.slice());
  assert.deepEqual(Array.from(restored.m!), Array.from(first.state.m!));
  assert.deepEqual(Array.from(restored.v!), Array.from(first.state.v!));
  const direct = applyServerOptimizer({ name: 'adam', ...adaptive }, f32(2, 0), first.state);
  const reloaded = applyServerOptimizer({ name: 'adam', ...adaptive }, f32(2, 0), restored);
  assert.deepEqual(Array.from(reloaded.step), Array.from(direct.step));
  // Momentum keeps m only; sgd keeps nothing.
  assert.deepEqual(Object.keys(decodeServerOptimizerState(encodeServerOptimizerState({ m: f32(1, 2, 3) }))), ['m']);
  assert.deepEqual(decodeServerOptimizerState(encodeServerOptimizerState({})), {});
  assert.throws(() => decodeServerOptimizerState(bytes.subarray(0, 12)), { message: 'server optimizer: the stored state has 12 bytes, expected 24' });
});

test('the server optimizer refuses a state of another size and settings out of range', () => {
  assert.throws(() => applyServerOptimizer({ name: 'momentum' }, f32(1, 2), { m: f32(1) }), {
    message: "server optimizer: the server optimizer's state m has 1 values, expected 2",
  });
  assert.throws(() => applyServerOptimizer({ name: 'adam', momentum: 1 }, f32(1)), { message: 'server optimizer: momentum must be in [0, 1), got 1' });
  assert.throws(() => applyServerOptimizer({ name: 'sgd', learningRate: 0 }, f32(1)), {
    message: 'server optimizer: learningRate must be a positive finite number, got 0',
  });
  assert.throws(() => applyServerOptimizer({ name: 'yogi', epsilon: 0 }, f32(1)), { message: 'server optimizer: epsilon must be a positive finite number, got 0' });
});

test('Nesterov momentum steps by η·(β·m + Δ): β = 0.5, Δ = [2, −4] then [1, 1]', () => {
  const settings = { name: 'momentum', momentum: 0.5, nesterov: true } as const;
  // Round 1: m = [2, −4]; step = 0.5·m + Δ = [3, −6].
  const first = applyServerOptimizer(settings, f32(2, -4));
  close(first.step, [3, -6]);
  // Round 2: m = 0.5·[2, −4] + [1, 1] = [2, −1]; step = [1, −0.5] + [1, 1] = [2, 0.5].
  close(applyServerOptimizer(settings, f32(1, 1), first.state).step, [2, 0.5]);
});
