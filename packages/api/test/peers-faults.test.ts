import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxDifference, peerProcess, titanicServer, type PeerRun } from './peers-helpers.js';

const result = (run: PeerRun) => run.events.find((e) => e.type === 'result') as unknown as { accuracy: number; weights: number[] };

test('a peer killed mid-round: the others finish the round within its deadline, without it', { timeout: 90_000 }, async (t) => {
  const deadlineMs = 8_000;
  const running = await titanicServer(t, { peers: 4, rounds: 2, timings: { roundDeadlineMs: deadlineMs, heartbeatTimeoutMs: 3_000 } });

  const runs = await Promise.all([0, 1, 2, 3].map((i) => peerProcess(running.url, i, 4, i === 3 ? ['--die-in-round', '2'] : [])));

  assert.equal(runs[3].signal, 'SIGKILL');
  const survivors = runs.slice(0, 3);
  for (const [i, run] of survivors.entries()) {
    assert.equal(run.code, 0, `peer ${i} exited with ${run.code ?? run.signal}`);
    const rounds = run.events.filter((e) => e.type === 'round');
    assert.deepEqual(rounds.map((e) => [e.round, e.participants]), [[1, 4], [2, 3]], `peer ${i}`);
    // Round 2 began (first epoch of any peer) at most the deadline before this peer aggregated it.
    const began = Math.min(...runs.flatMap((r) => r.events.filter((e) => e.type === 'epoch' && e.round === 2).map((e) => e.t)));
    const ended = (rounds[1]).t;
    assert.ok(ended - began <= deadlineMs + 1_000, `peer ${i} closed round 2 ${ended - began} ms after it began`);
  }
  // The three survivors aggregated the same three models.
  const [a, b, c] = survivors.map(result);
  assert.deepEqual([maxDifference(a.weights, b.weights), maxDifference(a.weights, c.weights)], [0, 0], 'bitwise identical (decision 0006)');
});

test('a peer joining mid-training takes the current model from a neighbour and joins the next round', { timeout: 90_000 }, async (t) => {
  const running = await titanicServer(t, { peers: 2, rounds: 6, timings: { heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000 } });
  // Started now (TF.js and the data take seconds to load), joins when told.
  const late = peerProcess(running.url, 2, 3, ['--wait-for-go']);
  let released = false;

  const first = await Promise.all(
    [0, 1].map((i) =>
      peerProcess(running.url, i, 3, [], (event) => {
        if (!released && event.type === 'epoch' && event.round === 2) {
          released = true;
          late.go();
        }
      }),
    ),
  );
  const joined = await late;

  for (const run of [...first, joined]) assert.equal(run.code, 0);
  const caughtUp = joined.events.find((e) => e.type === 'log' && /took the model of round \d+ from a neighbour/.test(String(e.message)));
  assert.ok(caughtUp, 'the late peer took the model from a neighbour');
  const lateRounds = joined.events.filter((e) => e.type === 'round').map((e) => e.round as number);
  assert.ok(lateRounds.length >= 1 && lateRounds.length < 6, `the late peer played rounds ${lateRounds.join(', ')}`);
  assert.equal(lateRounds.at(-1), 6);
  const finalRound = first[0].events.filter((e) => e.type === 'round').at(-1);
  assert.equal(finalRound?.participants, 3, 'the last round had the three peers');
  assert.equal(maxDifference(result(first[0]).weights, result(joined).weights), 0, 'bitwise identical (decision 0006)');
});
