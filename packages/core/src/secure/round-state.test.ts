import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiscoApiError } from '../client/api-errors.js';
import { mulberry32 } from '../data/random.js';
import { tabularTask } from '../model/test-tasks.js';
import { decodeSum, sumModular } from './fixed-point.js';
import { SecureAggregationClient } from './masking.js';
import { prepareSecureUpdate, secureEncoding } from './prepare.js';
import { checkMaskedLength, checkPublicKey, requireCurrentRound, requireSecureTask, requireStep, SecureRoundState } from './round-state.js';

const task = tabularTask({ id: 'round-state', minParticipants: 3, aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 50 }, privacy: { secureAggregation: true, clippingNorm: 1 } });
const START = Float32Array.of(0.5, -0.5, 0, 1);
const ids = ['p0', 'p1', 'p2', 'p3'];
const clock = { deadlineAt: 10, now: 0 };
const everyone = (waiting: string[]) => new Set(waiting);
const nobody = () => new Set<string>();

/** Like `assert.throws`, for the API error `code` with exactly `message`. */
function refuses(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (error: unknown) => error instanceof DiscoApiError && error.code === code && error.message === message);
}

async function keyed(n = ids.length) {
  const state = new SecureRoundState(task.id, 2, START.length);
  const clients = await Promise.all(ids.slice(0, n).map((id) => SecureAggregationClient.create({ id, taskId: task.id, round: 2 })));
  for (const client of clients) state.receiveKeys(client.id, client.advertise());
  return { state, clients };
}

test('a round through SecureRoundState: each step waits for its members, advances when the rest vanished, and unmasks the exact decoded sum', async () => {
  const { state, clients } = await keyed();
  assert.equal(state.openSharing(), undefined);
  assert.equal(state.threshold, 3);
  const roster = state.rosterFor('p0');
  assert.deepEqual(roster.map((a) => a.id), ids);

  // sharing: U1 = all four; p3 never deals.
  for (const client of clients.slice(0, 3)) state.receiveShares(client.id, (await client.shareKeys(roster)).shares);
  assert.deepEqual(state.stepInputs('sharing'), { members: ids, received: 3, waiting: ['p3'] });
  assert.deepEqual(state.decide('sharing', clock, everyone), { action: 'wait' });
  assert.deepEqual(state.decide('sharing', clock, nobody), { action: 'advance' });
  assert.equal(state.advance('sharing'), 'masking');

  // masking: U2 = p0..p2, each masks its fixed-point input.
  const encoding = secureEncoding(task, roster.length, START.length);
  const random = mulberry32(3);
  const inputs = clients.slice(0, 3).map((_, i) => prepareSecureUpdate({ start: START, local: START.map((v, k) => v + (i - k) / 10), examples: 10 * (i + 1) }, encoding, random).words);
  for (const [i, client] of clients.slice(0, 3).entries()) {
    assert.equal(state.precheckMasked(client.id), (START.length + 1) * 4);
    state.receiveMasked(client.id, (await client.maskInput(state.sharesFor(client.id), inputs[i])).masked);
  }
  assert.deepEqual(state.stepInputs('masking'), { members: ['p0', 'p1', 'p2'], received: 3, waiting: [] });
  assert.deepEqual(state.decide('masking', clock, everyone), { action: 'advance' });
  assert.equal(state.advance('masking'), 'unmasking');

  // unmasking: U3 = p0..p2; t = 3 of them must reveal.
  const request = state.unmaskRequest('p0');
  assert.deepEqual(request.survivors, ['p0', 'p1', 'p2']);
  for (const client of clients.slice(0, 2)) state.receiveReveal(client.id, client.unmask(request));
  assert.deepEqual(state.decide('unmasking', clock, nobody), {
    action: 'fail',
    reason: 'abandoned: only 2 of 3 sets of revealed shares arrived, fewer than the threshold 3; nothing was unmasked',
  });
  state.receiveReveal('p2', clients[2].unmask(request));
  assert.deepEqual(state.decide('unmasking', clock, everyone), { action: 'advance' });
  assert.equal(state.advance('unmasking'), 'aggregating');

  let stored: { mean: Float32Array; totalWeight: number } | undefined;
  const outcome = await state.unmask(task, (mean, totalWeight) => void (stored = { mean, totalWeight }));
  assert.deepEqual(outcome, { problem: undefined });
  const expected = decodeSum(sumModular(inputs), encoding.code);
  assert.deepEqual(stored, { mean: expected.mean, totalWeight: expected.totalWeight });
  assert.equal(expected.totalWeight, 60);
});

test('SecureRoundState refuses, with the server\'s codes and messages: a repeat, a non-member, a forged share, a malformed message, a wrong size', async () => {
  const { state, clients } = await keyed();
  refuses(() => state.receiveKeys('p1', clients[1].advertise()), 'DUPLICATE_UPDATE', 'this participant already advertised its keys for round 2');
  assert.equal(state.openSharing(), undefined);
  const roster = state.rosterFor('p1');
  refuses(() => state.rosterFor('p9'), 'FORBIDDEN', 'participant p9 takes no part in the sharing step of round 2: it advertised no keys while the round was open');
  const { shares } = await clients[0].shareKeys(roster);
  refuses(() => state.receiveShares('p1', shares), 'FORBIDDEN', 'a share from "p0" cannot come with p1\'s token: every share\'s "from" must be the sender');
  refuses(() => state.receiveShares('p0', shares.slice(1)), 'BAD_REQUEST', 'p0 must seal one share for each other member of the roster');
  state.receiveShares('p0', shares);
  refuses(() => state.receiveShares('p0', shares), 'DUPLICATE_UPDATE', 'this participant already sent its shares for round 2');
  for (const client of clients.slice(1, 3)) state.receiveShares(client.id, (await client.shareKeys(roster)).shares);
  state.advance('sharing');
  refuses(() => state.sharesFor('p3'), 'FORBIDDEN', 'participant p3 takes no part in the masking step of round 2: it sent no shares in the sharing step');
  refuses(() => state.receiveMasked('p0', new Uint32Array(3)), 'SHAPE_MISMATCH', 'a masked input of task "round-state" has 5 words (20 bytes: its 4 parameters and the weight word), not 3 (12 bytes)');
  state.receiveMasked('p0', new Uint32Array(5));
  refuses(() => state.precheckMasked('p0'), 'DUPLICATE_UPDATE', 'this participant already sent its masked input for round 2');
  refuses(() => state.unmaskRequest('p1'), 'FORBIDDEN', 'participant p1 takes no part in the unmasking step of round 2: it sent no masked input in the masking step');
});

test('a round of two cannot start sharing; the checks around a step name the setting, the round and the phase', async () => {
  const { state } = await keyed(2);
  assert.equal(state.openSharing(), 'abandoned: a secure round needs at least 3 participants, the roster has 2');
  refuses(() => requireStep(4, 'open', 'masking'), 'ROUND_NOT_OPEN', 'round 4 is open: masked inputs are taken in its masking step');
  refuses(() => requireCurrentRound(3, { number: 4, phase: 'sharing' }), 'WRONG_ROUND', 'round 3 is over; the current round is 4 (sharing)');
  refuses(() => requireCurrentRound(5, { number: 4, phase: 'open' }), 'WRONG_ROUND', 'round 5 has not started; the current round is 4 (open)');
  refuses(() => requireSecureTask({ ...task, privacy: { ...task.privacy, secureAggregation: false } }), 'BAD_REQUEST', 'task "round-state" does not use secure aggregation (privacy.secureAggregation is off): send plain updates');
  refuses(() => checkPublicKey(new Uint8Array(33), 'maskKey'), 'BAD_REQUEST', 'maskKey must be a raw P-256 public key of 65 bytes, not 33');
  refuses(() => checkMaskedLength('t', 2, 2.5), 'SHAPE_MISMATCH', 'a masked input of task "t" has 2 words (8 bytes: its 1 parameters and the weight word), not 2.5 (10 bytes)');
});
