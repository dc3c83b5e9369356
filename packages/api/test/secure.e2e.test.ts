import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFederationApi } from '@disco/client';
import { decodeSum, decodeWeights, prepareSecureUpdate, runSecureRound, secureEncoding, sumModular, type RoundState, type Task } from '@disco/core';
import { INITIAL, roundHistory, sqlRows, TEST_DB, testServer, testTask, waitFor, WebSocket } from './helpers.js';

// Secure federated rounds over real HTTP (decision 0010): four or five real clients (the @disco/client port)
// run the steps; the server must store exactly the decoded sum of the inputs the clients encoded, and nothing
// of any one of them.

const task: Task = testTask({
  id: 'test-task',
  minParticipants: 3,
  aggregation: { strategy: 'fedavg', maxSamplesPerUpdate: 100 },
  privacy: { secureAggregation: true, clippingNorm: 1 },
});

type Step = 'keys' | 'shares' | 'masked';
class Vanished extends Error {}

interface Options {
  round: number;
  /** The step after which this participant vanishes: it leaves, or (`crash`) just stops sending. */
  vanishAfter?: Step;
  crash?: boolean;
}

/** n participants join (or rejoin with `tokens`) before anyone sends, so that the round waits for all of them; then each runs its steps. */
async function secureRound(url: string, n: number, options: (i: number) => Options, tokens: string[] = []) {
  const apis = Array.from({ length: n }, () => createFederationApi(url, { WebSocket }));
  try {
    const joined = await Promise.all(apis.map((api, i) => api.join(task.id, tokens[i] ? { token: tokens[i] } : undefined)));
    return await Promise.all(apis.map((api, i) => participant(api, joined[i], i, options(i))));
  } finally {
    for (const api of apis) api.close();
  }
}

/** One participant's steps; it vanishes after `vanishAfter`. */
async function participant(api: ReturnType<typeof createFederationApi>, joined: { token: string; participantId: string }, i: number, options: Options) {
  {
    const local = INITIAL.map((v, k) => v + Math.sin(3 * i + k + options.round) * 0.3);
    let input: Uint32Array | undefined;
    try {
      const outcome = await runSecureRound(
        {
          api,
          token: joined.token,
          taskId: task.id,
          participantId: joined.participantId,
          round: options.round,
          waitForState: async (ready) => {
            for (;;) {
              const state: RoundState = await api.heartbeat(joined.token);
              if (ready(state)) return state;
              await new Promise((r) => setTimeout(r, 20));
            }
          },
          call: (fn) => fn(),
          after: async (step) => {
            if (step !== options.vanishAfter) return;
            if (!options.crash) await api.leave(joined.token);
            throw new Vanished();
          },
        },
        (participants) => (input = prepareSecureUpdate({ start: INITIAL, local, examples: 10 + i }, secureEncoding(task, participants, INITIAL.length)).words),
      );
      return { status: outcome.status, input, token: joined.token, stats: { ...api.stats } };
    } catch (error) {
      if (error instanceof Vanished) return { status: 'vanished', input, token: joined.token, stats: { ...api.stats } };
      throw error;
    }
  }
}

/** The version the server stored, as float32 values. */
async function storedVersion(url: string, version: number): Promise<Float32Array> {
  const response = await fetch(`${url}/v1/tasks/${task.id}/models/${version}/weights`);
  assert.equal(response.status, 200);
  return decodeWeights(new Uint8Array(await response.arrayBuffer())).weights.values;
}

/** base + Σwu/Σw decoded from the plain sum of the inputs, as the server must have stored it (float32). */
function expectedVersion(inputs: Uint32Array[], rosterSize: number): { values: Float32Array; samples: number } {
  const { mean, totalWeight } = decodeSum(sumModular(inputs), secureEncoding(task, rosterSize, INITIAL.length).code);
  return { values: Float32Array.from(INITIAL, (v, k) => v + mean[k]), samples: totalWeight };
}

test('a secure round of 4 real clients stores exactly the decoded plain sum of their encodings, and nothing of any one of them', async (t) => {
  const server = await testServer({ tasks: [task] });
  t.after(() => server.cleanup());

  const results = await secureRound(server.url, 4, () => ({ round: 1 }));

  assert.deepEqual(results.map((r) => r.status), ['sent', 'sent', 'sent', 'sent']);
  const expected = expectedVersion(results.map((r) => r.input as Uint32Array), 4);
  await waitFor('version 1', () => roundHistory(server), (rounds) => rounds.some((r) => r.number === 1 && r.phase === 'closed'));
  assert.deepEqual(await storedVersion(server.url, 1), expected.values);
  const [, closed] = await roundHistory(server);
  assert.deepEqual([closed.phase, closed.samples, closed.submitted, closed.metrics], ['closed', expected.samples, 4, null]);
  assert.equal(expected.samples, 10 + 11 + 12 + 13);
  // What the database holds of the round: who took part and the bytes each sent; no samples, no metrics, no input.
  const rows = await sqlRows<{ samples: number; metrics: string | null; bytes: number; delta: Buffer | null; file: string | null }>(server.db, 'SELECT samples, metrics, bytes, delta, file FROM updates ORDER BY id');
  assert.equal(rows.length, 4);
  for (const row of rows) {
    assert.equal(row.samples, 0);
    assert.equal(row.metrics, null);
    assert.equal(row.delta, null, 'a secure round stores no update');
    assert.equal(row.file, null, 'nor a file of one');
    // keys 130 B + 3 sealed shares of 92 B + 10 words of masked input + 4 revealed shares of 32 B.
    assert.equal(row.bytes, 130 + 3 * 92 + 4 * (INITIAL.length + 1) + 4 * 32);
  }
  const columns = await sqlRows<{ name: string }>(
    server.db,
    TEST_DB === 'postgres' ? "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'updates'" : "SELECT name FROM pragma_table_info('updates')",
  );
  assert.deepEqual(columns.map((c) => c.name).sort(), ['bytes', 'delta', 'file', 'id', 'metrics', 'participant_id', 'received_at', 'round_id', 'samples']);
  console.log(`secure round, bytes per client (sent, received): ${results.map((r) => `${r.stats.bytesSent}/${r.stats.bytesReceived}`).join(', ')}`);
});

test('participants that vanish before and after masking: the sum of the masked inputs is still exact', async (t) => {
  const server = await testServer({ tasks: [task] });
  t.after(() => server.cleanup());

  // Five members (t = 3): #1 deals shares and vanishes before masking (its pairwise masks are removed from its
  // mask key), #3 masks and vanishes before unmasking (its input stays in, its self-mask rebuilt from shares).
  const results = await secureRound(server.url, 5, (i) => ({ round: 1, vanishAfter: i === 1 ? 'shares' : i === 3 ? 'masked' : undefined }));

  assert.deepEqual(results.map((r) => r.status), ['sent', 'vanished', 'sent', 'vanished', 'sent']);
  assert.equal(results[1].input, undefined);
  const expected = expectedVersion([0, 2, 3, 4].map((i) => results[i].input as Uint32Array), 5);
  await waitFor('version 1', () => roundHistory(server), (rounds) => rounds.some((r) => r.number === 1 && r.phase === 'closed'));
  assert.deepEqual(await storedVersion(server.url, 1), expected.values);
  assert.equal((await roundHistory(server))[1].samples, 10 + 12 + 13 + 14);
});

test('fewer than t survivors: the round fails naming the step and counts, nothing is stored, and the next round opens from the same version', async (t) => {
  const server = await testServer({ tasks: [task] });
  t.after(() => server.cleanup());

  const results = await secureRound(server.url, 4, (i) => ({ round: 1, vanishAfter: i < 2 ? 'masked' : undefined }));

  // The two left may reveal their shares before the departures fail the round ('sent') or find it failed ('missed'):
  // either way nothing is unmasked, which is what the rest asserts.
  assert.deepEqual(results.slice(0, 2).map((r) => r.status), ['vanished', 'vanished']);
  for (const r of results.slice(2)) assert.ok(r.status === 'sent' || r.status === 'missed', r.status);
  const rounds = await waitFor('round 1 failed', () => roundHistory(server), (list) => list.some((r) => r.number === 1 && r.phase === 'failed'));
  const failed = rounds.find((r) => r.number === 1)!;
  assert.match(failed.failureReason ?? '', /^abandoned: only [0-2] of 4 sets of revealed shares arrived, fewer than the threshold 3; nothing was unmasked$/);
  assert.deepEqual([rounds[0].number, rounds[0].phase, rounds[0].baseVersion], [2, 'open', 0]);
  const versions = await fetch(`${server.url}/v1/tasks/${task.id}/models/1/weights`);
  assert.equal(versions.status, 404);
});

test('a restart during a secure round fails it (never unmasked from partial state); the next round starts from scratch and succeeds', async (t) => {
  const first = await testServer({ tasks: [task] });
  // Every participant deals its shares and stops (no leave): the round waits in its masking step when the server stops.
  const stopped = await secureRound(first.url, 4, () => ({ round: 1, vanishAfter: 'shares', crash: true }));
  await waitFor('masking', () => roundHistory(first), (list) => list[0].phase === 'masking');
  // Meanwhile: a masked input of the wrong size is refused naming both sizes; a participant outside the roster is refused.
  const member = createFederationApi(first.url, { WebSocket });
  const outsider = createFederationApi(first.url, { WebSocket });
  try {
    await member.join(task.id, { token: stopped[0].token });
    await assert.rejects(member.secure.submitMasked(stopped[0].token, 1, new Uint32Array(3)), {
      code: 'SHAPE_MISMATCH',
      message: 'a masked input of task "test-task" has 10 words (40 bytes: its 9 parameters and the weight word), not 3 (12 bytes)',
    });
    const late = await outsider.join(task.id);
    await assert.rejects(outsider.secure.sharesFor(late.token, 1), {
      code: 'FORBIDDEN',
      message: `participant ${late.participantId} takes no part in the masking step of round 1: it sent no shares in the sharing step`,
    });
    await outsider.leave(late.token);
  } finally {
    member.close();
    outsider.close();
  }
  assert.deepEqual(stopped.map((r) => r.status), ['vanished', 'vanished', 'vanished', 'vanished']);
  await first.close();
  const second = await testServer({ db: first.db, tasks: [task] });
  t.after(async () => {
    await second.cleanup();
    await first.cleanup();
  });

  const rounds = await roundHistory(second);
  assert.deepEqual(
    rounds.map((r) => [r.number, r.phase, r.failureReason]),
    [
      [2, 'open', null],
      [1, 'failed', 'the server restarted during secure round 1: it was abandoned, never unmasked from partial state'],
    ],
  );
  const results = await secureRound(second.url, 4, () => ({ round: 2 }), stopped.map((r) => r.token));
  assert.deepEqual(results.map((r) => r.status), ['sent', 'sent', 'sent', 'sent']);
  await waitFor('version 1', () => roundHistory(second), (list) => list.some((r) => r.number === 2 && r.phase === 'closed'));
  assert.deepEqual(await storedVersion(second.url, 1), expectedVersion(results.map((r) => r.input as Uint32Array), 4).values);
});

test('secure tasks take no plain update, and each step is refused outside its phase or round, and keys of the wrong size', async (t) => {
  const server = await testServer({ tasks: [task] });
  t.after(() => server.cleanup());
  const api = createFederationApi(server.url, { WebSocket });
  t.after(() => api.close());
  const { token } = await api.join(task.id);

  await assert.rejects(api.submitUpdate(token, 1, new Uint8Array(16)), (e: Error & { code?: string }) => e.code === 'BAD_REQUEST' && /uses secure aggregation/.test(e.message));
  await assert.rejects(api.secure.roster(token, 1), { code: 'ROUND_NOT_OPEN', message: 'round 1 is open: shares are taken in its sharing step' });
  await assert.rejects(api.secure.submitMasked(token, 1, new Uint32Array(10)), { code: 'ROUND_NOT_OPEN', message: 'round 1 is open: masked inputs are taken in its masking step' });
  await assert.rejects(api.secure.advertiseKeys(token, 2, { channelKey: new Uint8Array(65), maskKey: new Uint8Array(65) }), { code: 'WRONG_ROUND' });
  await assert.rejects(api.secure.advertiseKeys(token, 1, { channelKey: new Uint8Array(3), maskKey: new Uint8Array(65) }), {
    code: 'BAD_REQUEST',
    message: 'channelKey must be a raw P-256 public key of 65 bytes, not 3',
  });
});
