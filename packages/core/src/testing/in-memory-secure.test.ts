import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiscoApiError } from '../client/api-errors.js';
import { runSecureRound } from '../client/secure-round.js';
import type { RoundState } from '../client/federation-api.js';
import { mulberry32 } from '../data/random.js';
import { decodeSum, sumModular } from '../secure/fixed-point.js';
import { tabularTask } from '../model/test-tasks.js';
import { prepareSecureUpdate, secureEncoding } from '../secure/prepare.js';
import { decodeWeights, encodeWeights } from '../weights/codec.js';
import { InMemoryFederation } from './in-memory-federation.js';

const SHAPES = [{ name: 'w', shape: [5] }];
const task = tabularTask({ id: 'secure-fake', minParticipants: 3, aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 50 }, privacy: { secureAggregation: true, clippingNorm: 1 } });
const START = Float32Array.of(0.5, -0.5, 0, 1, 2);

class Vanished extends Error {}

/** n participants run one secure round; `vanish` ids stop after masking; returns their inputs and the outcomes. */
async function secureRound(n: number, vanish: number[] = []) {
  const federation = new InMemoryFederation({ tasks: [task], initial: { [task.id]: { values: START, shapes: SHAPES } } });
  const joined = [];
  for (let i = 0; i < n; i++) joined.push(await federation.join(task.id));
  const random = mulberry32(11);
  const inputs = new Map<number, Uint32Array>();
  const outcomes = await Promise.all(
    joined.map(async ({ token, participantId }, i) => {
      const local = START.map((v, k) => v + Math.sin(i * 5 + k) * 0.4);
      try {
        return await runSecureRound(
          {
            api: federation,
            token,
            taskId: task.id,
            participantId,
            round: 1,
            waitForState: async (ready) => {
              for (;;) {
                const state: RoundState = await federation.heartbeat(token);
                if (ready(state)) return state;
                await new Promise((r) => setTimeout(r, 2));
              }
            },
            call: (fn) => fn(),
            after: async (step) => {
              if (step !== 'masked' || !vanish.includes(i)) return;
              await federation.leave(token);
              throw new Vanished();
            },
          },
          (participants) => {
            const words = prepareSecureUpdate({ start: START, local, examples: 10 * (i + 1) }, secureEncoding(task, participants, START.length), random).words;
            inputs.set(i, words);
            return words;
          },
        );
      } catch (error) {
        if (error instanceof Vanished) return { status: 'vanished' };
        throw error;
      }
    }),
  );
  return { federation, inputs: [...inputs.entries()].sort((a, b) => a[0] - b[0]).map(([, words]) => words), outcomes };
}

test('a secure round in the fake: the new version is the start plus the exact decoded sum of the inputs; Σw is the round\'s samples', async () => {
  const { federation, inputs, outcomes } = await secureRound(4);
  assert.deepEqual(outcomes.map((o) => o.status), ['sent', 'sent', 'sent', 'sent']);
  const { mean, totalWeight } = decodeSum(sumModular(inputs), secureEncoding(task, 4, START.length).code);
  const expected = encodeWeights({ values: START.map((v, k) => v + mean[k]), shapes: SHAPES }, { taskId: task.id, modelVersion: 1 });
  assert.deepEqual(decodeWeights(await federation.downloadWeights(task.id, 1)).weights.values, decodeWeights(expected).weights.values);
  const [closed] = federation.roundsOf(task.id).filter((r) => r.number === 1);
  assert.equal(closed.phase, 'closed');
  assert.equal(closed.samples, totalWeight);
  assert.equal(totalWeight, 10 + 20 + 30 + 40);
  assert.equal(closed.metrics, null);
  assert.equal(federation.state(task.id).round, 2);
});

test('in the fake, a participant that vanishes after masking is still in the sum; fewer than t survivors fail the round', async () => {
  const one = await secureRound(4, [2]);
  assert.deepEqual(one.outcomes.map((o) => o.status), ['sent', 'sent', 'vanished', 'sent']);
  const { mean } = decodeSum(sumModular(one.inputs), secureEncoding(task, 4, START.length).code);
  assert.deepEqual(decodeWeights(await one.federation.downloadWeights(task.id, 1)).weights.values, Float32Array.from(START.map((v, k) => v + mean[k])));

  const two = await secureRound(4, [0, 1]);
  // The two left may reveal before the others' departure fails the round ('sent') or find it failed ('missed').
  assert.deepEqual(two.outcomes.slice(0, 2).map((o) => o.status), ['vanished', 'vanished']);
  for (const { status } of two.outcomes.slice(2)) assert.ok(status === 'missed' || status === 'sent', status);
  const [failed] = two.federation.roundsOf(task.id).filter((r) => r.number === 1);
  assert.equal(failed.phase, 'failed');
  // Two of four left: t = 3 is out of reach, so the round fails before (or as) the others reveal anything.
  assert.match(failed.failureReason ?? '', /^abandoned: only [0-2] of 4 sets of revealed shares arrived, fewer than the threshold 3; nothing was unmasked$/);
  assert.equal(two.federation.version(task.id), 0);
  assert.equal(two.federation.state(task.id).round, 2);
});

test('the fake refuses a plain update for a secure task, and secure steps out of their phase', async () => {
  const federation = new InMemoryFederation({ tasks: [task], initial: { [task.id]: { values: START, shapes: SHAPES } } });
  const { token } = await federation.join(task.id);
  const update = encodeWeights({ values: new Float32Array(5), shapes: SHAPES }, { taskId: task.id, modelVersion: 0, meta: { samples: 1 } });
  await assert.rejects(federation.submitUpdate(token, 1, update), (e: unknown) => e instanceof DiscoApiError && e.code === 'BAD_REQUEST' && /uses secure aggregation/.test(e.message));
  await assert.rejects(federation.secure.roster(token, 1), { code: 'ROUND_NOT_OPEN', message: 'round 1 is open: key advertisements are taken in its sharing step'.replace('key advertisements', 'shares') });
  await assert.rejects(federation.secure.advertiseKeys(token, 2, { channelKey: new Uint8Array(65), maskKey: new Uint8Array(65) }), { code: 'WRONG_ROUND' });
  await assert.rejects(federation.secure.advertiseKeys(token, 1, { channelKey: new Uint8Array(3), maskKey: new Uint8Array(65) }), {
    code: 'BAD_REQUEST',
    message: 'channelKey must be a raw P-256 public key of 65 bytes, not 3',
  });
});
