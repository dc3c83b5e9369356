import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import type { Dataset } from '../data/dataset.js';
import { loadBuiltinDataset } from '../data/node/index.js';
import { shardDataset, takeDataset } from '../data/operations.js';
import { evaluateModel } from '../evaluation/evaluate.js';
import { getBuiltinTask } from '../task/builtin/index.js';
import type { Task } from '../task/schema.js';
import type { DoneEvent, TrainingEvent } from '../training/events.js';
import { InMemoryFederation } from '../testing/index.js';
import { DiscoApiError } from './api-errors.js';
import { FederatedClient } from './federated.js';

// The participant's side of asynchronous (FedBuff) tasks, against the in-memory federation (core's async rules).

/** Titanic in async mode: `rounds` versions to produce, one local epoch per update. */
function asyncTitanic(rounds: number, settings: Partial<Task['async']> = {}, overrides: Partial<Task> = {}): Task {
  const task = getBuiltinTask('titanic') as Task;
  return {
    ...task,
    mode: 'async',
    minParticipants: 1,
    training: { ...task.training, epochsPerRound: 1, rounds },
    async: { bufferSize: 2, maxStaleness: 10, stalenessWeighting: 'polynomial', stalenessExponent: 0.5, ...settings },
    ...overrides,
  };
}

const fast = { heartbeatIntervalMs: 200, pollIntervalMs: 100, backoff: { initialDelayMs: 20, maxDelayMs: 200 } };

async function collect(client: FederatedClient): Promise<TrainingEvent[]> {
  const events: TrainingEvent[] = [];
  for await (const event of client.run()) events.push(event);
  return events;
}
const rounds = (events: TrainingEvent[]) => events.flatMap((e) => (e.type === 'round' ? [e] : []));
const done = (events: TrainingEvent[]) => events.at(-1) as DoneEvent;

let trainSplit: Dataset;
let testSplit: Dataset;
before(async () => {
  await initBackend();
  [trainSplit, testSplit] = await Promise.all([loadBuiltinDataset('titanic', { split: 'train' }), loadBuiltinDataset('titanic', { split: 'test' })]);
});

describe('FederatedClient, asynchronous tasks', () => {
  test('a slow client never blocks the fast ones: they publish versions while it trains, and its update arrives stale', async () => {
    const server = new InMemoryFederation({ tasks: [asyncTitanic(6)] });
    const shards = shardDataset(takeDataset(trainSplit, 600), 3, { seed: 1 });
    let slowFirstUpdateAt = 0;
    const clients = shards.map(
      (dataset, i) =>
        new FederatedClient({
          api: server,
          taskId: 'titanic',
          dataset,
          ...fast,
          // The third client is a device 5 times slower.
          slowdown: i === 2 ? 5 : 1,
          onEvent: (e) => void (i === 2 && e.type === 'round' && !slowFirstUpdateAt && (slowFirstUpdateAt = Date.now())),
        }),
    );

    const [eventsA, eventsB, eventsSlow] = await Promise.all(clients.map(collect));

    const closed = server.roundsOf('titanic').filter((r) => r.phase === 'closed');
    const beforeSlow = closed.filter((r) => (r.closedAt ?? Infinity) <= slowFirstUpdateAt);
    assert.ok(beforeSlow.length >= 2, `versions published before the slow client's first update: ${beforeSlow.map((r) => r.number).join(', ')}`);
    const slowRounds = rounds(eventsSlow);
    assert.ok(slowRounds.length >= 1 && (slowRounds[0].staleness ?? 0) >= 1, `the slow client's staleness: ${slowRounds.map((e) => e.staleness).join(', ')}`);
    for (const events of [eventsA, eventsB]) {
      assert.ok(rounds(events).every((e) => typeof e.staleness === 'number' && e.modelVersion === e.round - 1));
      assert.ok((done(events).updatesAccepted ?? 0) > (done(eventsSlow).updatesAccepted ?? 0), 'a fast client sends more updates than the slow one');
    }
    for (const events of [eventsA, eventsB, eventsSlow]) {
      const end = done(events);
      assert.equal(end.stopped, false);
      assert.ok((end.versions ?? 0) >= 6 && end.rounds === end.versions, `versions ${end.versions}`);
    }
    // Every version lists its contributions; a version's staleness weights are 1/√(1 + s).
    for (const version of closed)
      for (const c of version.contributions ?? []) assert.ok(Math.abs(c.weight - 1 / Math.sqrt(1 + c.staleness)) < 1e-12);
    const { accuracy } = evaluateModel(clients[0].model!, testSplit);
    assert.ok(accuracy > 0.7, `test accuracy ${accuracy}`);
    clients.forEach((c) => c.model!.dispose());
  });

  test('a STALE_UPDATE refusal is logged, and the client trains again from the latest version', async () => {
    // maxStaleness 0 and K = 1: every version the fast client publishes makes the slow client's update too old.
    const server = new InMemoryFederation({ tasks: [asyncTitanic(5, { bufferSize: 1, maxStaleness: 0 })] });
    const [a, b] = shardDataset(takeDataset(trainSplit, 300), 2, { seed: 2 });
    const clients = [a, b].map((dataset, i) => new FederatedClient({ api: server, taskId: 'titanic', dataset, ...fast, slowdown: i === 1 ? 6 : 1 }));

    const [, slow] = await Promise.all(clients.map(collect));

    const refused = slow.filter((e) => e.type === 'log' && /refused \(the update was trained from model version \d+, \d+ versions behind the current version \d+;/.test(e.message));
    assert.ok(refused.length >= 1, 'the slow client was told its update was too stale');
    assert.equal(done(slow).stopped, false);
    assert.ok((done(slow).versions ?? 0) >= 5);
    clients.forEach((c) => c.model!.dispose());
  });

  test('a client joining late contributes to the next version', async () => {
    const server = new InMemoryFederation({ tasks: [asyncTitanic(6)] });
    const [a, b, c] = shardDataset(takeDataset(trainSplit, 450), 3, { seed: 3 });
    let joinedAt = -1;
    let late: Promise<TrainingEvent[]> | undefined;
    let lateClient: FederatedClient | undefined;
    const first = [a, b].map(
      (dataset, i) =>
        new FederatedClient({
          api: server,
          taskId: 'titanic',
          dataset,
          ...fast,
          onEvent: (e) => {
            // The third participant joins once version 2 is out.
            if (i === 0 && e.type === 'round' && e.modelVersion >= 2 && !late) {
              joinedAt = server.version('titanic');
              lateClient = new FederatedClient({ api: server, taskId: 'titanic', dataset: c, ...fast });
              late = collect(lateClient);
            }
          },
        }),
    );

    await Promise.all(first.map(collect));
    const lateEvents = await (late as Promise<TrainingEvent[]>);

    const lateRounds = rounds(lateEvents);
    assert.ok(lateRounds.length >= 1, 'the late client sent updates');
    assert.ok(lateRounds[0].round > joinedAt, `its first update went into version ${lateRounds[0].round}, after version ${joinedAt}`);
    const contributed = server.roundsOf('titanic').filter((r) => r.phase === 'closed' && r.contributions?.some((x) => x.participantId === 'participant-003'));
    assert.ok(contributed.length >= 1 && contributed.every((r) => r.number > joinedAt), `versions with its updates: ${contributed.map((r) => r.number).join(', ')}`);
    assert.equal(done(lateEvents).stopped, false);
    [...first, lateClient as FederatedClient].forEach((client) => client.model!.dispose());
  });

  test('a client leaving mid-training stalls nobody, even where each buffer takes one update per participant', async () => {
    // The median takes one update per participant and buffer: with K = 3, the buffer closes without the leaver.
    const task = asyncTitanic(5, { bufferSize: 3 }, { minParticipants: 2, aggregation: { ...getBuiltinTask('titanic')!.aggregation, strategy: 'median' } });
    const server = new InMemoryFederation({ tasks: [task] });
    const shards = shardDataset(takeDataset(trainSplit, 450), 3, { seed: 4 });
    const clients: FederatedClient[] = shards.map(
      (dataset, i) =>
        new FederatedClient({
          api: server,
          taskId: 'titanic',
          dataset,
          ...fast,
          onEvent: (e) => void (i === 2 && e.type === 'round' && clients[2].stop()),
        }),
    );

    const [eventsA, eventsB, leaver] = await Promise.all(clients.map(collect));

    assert.equal(done(leaver).stopped, true);
    assert.equal(done(leaver).updatesAccepted, 1);
    for (const events of [eventsA, eventsB]) {
      assert.equal(done(events).stopped, false);
      assert.ok((done(events).versions ?? 0) >= 5);
    }
    clients.forEach((c) => c.model!.dispose());
  });

  test('under noise each participant sends one update per version, and every version is accounted', async () => {
    const task = asyncTitanic(3, { bufferSize: 2 }, { privacy: { ...getBuiltinTask('titanic')!.privacy, clippingNorm: 1, noiseMultiplier: 0.5 } });
    const server = new InMemoryFederation({ tasks: [task] });
    const clients = shardDataset(takeDataset(trainSplit, 300), 2, { seed: 5 }).map((dataset) => new FederatedClient({ api: server, taskId: 'titanic', dataset, ...fast }));

    const results = await Promise.all(clients.map(collect));

    const closed = server.roundsOf('titanic').filter((r) => r.phase === 'closed');
    assert.deepEqual(closed.map((r) => r.number).sort(), [1, 2, 3]);
    for (const version of closed) assert.equal(new Set(version.contributions?.map((c) => c.participantId)).size, version.contributions?.length, `version ${version.number}`);
    for (const events of results) {
      const end = done(events);
      assert.ok(end.versions === 3 && typeof end.epsilon === 'number' && end.epsilon > 0, `versions ${end.versions}, ε ${end.epsilon}`);
      assert.ok(rounds(events).every((e) => typeof e.epsilon === 'number'));
    }
    assert.equal(closed.find((r) => r.number === 3)?.epsilon, done(results[0]).epsilon);
    clients.forEach((c) => c.model!.dispose());
  });

  test('an update refused while its buffer is being aggregated goes to the next buffer', async () => {
    const server = new InMemoryFederation({ tasks: [asyncTitanic(2, { bufferSize: 1 })] });
    let refusals = 1;
    // The server's answer while a buffer is aggregated off-thread (the fake aggregates at once).
    const api = new Proxy(server, {
      get(target, key) {
        if (key === 'submitUpdate')
          return async (...args: Parameters<InMemoryFederation['submitUpdate']>) => {
            if (refusals-- > 0) throw new DiscoApiError('ROUND_NOT_OPEN', 'the buffer of version 1 is aggregating and takes no more updates; try again in a moment');
            return target.submitUpdate(...args);
          };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const client = new FederatedClient({ api, taskId: 'titanic', dataset: takeDataset(trainSplit, 200), ...fast });

    const events = await collect(client);

    assert.ok(events.some((e) => e.type === 'log' && e.message.startsWith('the buffer of version 1 is aggregating and takes no more updates; try again in a moment: sending this update to the next buffer')));
    assert.deepEqual(rounds(events).map((e) => e.round), [1, 2]);
    assert.equal(done(events).updatesAccepted, 2);
    client.model!.dispose();
  });

  test('no tensor leaks from one version to the next', async () => {
    const server = new InMemoryFederation({ tasks: [asyncTitanic(4, { bufferSize: 1 })] });
    const counts: number[] = [];
    const client = new FederatedClient({
      api: server,
      taskId: 'titanic',
      dataset: takeDataset(trainSplit, 200),
      ...fast,
      onEvent: (e) => void (e.type === 'round' && counts.push(tf.memory().numTensors)),
    });
    await collect(client);
    assert.ok(counts.length >= 4, `${counts.length} updates`);
    // The optimizer creates its slots with the first update; from then on nothing may grow.
    assert.deepEqual(counts.slice(1), counts.slice(1).map(() => counts[1]));
    client.model!.dispose();
  });
});
