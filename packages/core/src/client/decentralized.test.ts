import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../backend/init-backend.js';
import { buildModel, getFlatWeights } from '../model/index.js';
import { syntheticDataset } from '../model/test-tasks.js';
import { nodeWrtc } from '../peer/node/wrtc.js';
import { peerGroups } from '../peer/topology.js';
import type { PeerRoundInfo, PeerServerEvent, SignallingApi } from '../peer/signalling-api.js';
import type { PeerSignal } from '../peer/types.js';
import { titanic } from '../task/builtin/titanic.js';
import { parseTask, type Task } from '../task/schema.js';
import type { TrainingEvent } from '../training/events.js';
import { encodeWeights } from '../weights/codec.js';
import { DecentralizedClient } from './decentralized.js';

/**
 * A signalling server in memory for `members` participants: each round starts when all of them are ready,
 * with all-to-all groups, and signals are relayed as they come. Just enough of the peers router to drive
 * the client without HTTP.
 */
class InMemorySignalling {
  readonly listeners = new Map<string, (event: PeerServerEvent) => void>();
  readonly ready = new Map<number, Set<string>>();
  private next = 0;
  latest: PeerRoundInfo | null = null;

  constructor(
    readonly task: Task,
    readonly members: number,
    readonly deadlineMs: number,
  ) {}

  port(): SignallingApi {
    const id = `p${this.next++}`;
    const send = (to: string, event: PeerServerEvent) => setTimeout(() => this.listeners.get(to)?.(event));
    const view = (info: PeerRoundInfo): PeerRoundInfo => ({ ...info, member: info.members.includes(id), group: info.members.filter((m) => m !== id) });
    return {
      stats: { bytesSent: 0, bytesReceived: 0 },
      join: async () => ({ participantId: id, token: id, task: this.task, iceServers: [], round: null, heartbeatIntervalMs: 60_000 }),
      heartbeat: async () => undefined,
      downloadInitialModel: async () => encodeWeights(getFlatWeights(buildModel(this.task)), { taskId: this.task.id, modelVersion: 0 }),
      ready: async (_token, round) => {
        const ready = this.ready.get(round) ?? new Set<string>();
        ready.add(id);
        this.ready.set(round, ready);
        const members = [...ready].sort();
        const running = ready.size === this.members;
        this.latest = {
          taskId: this.task.id,
          round,
          phase: running ? 'running' : 'gathering',
          members,
          member: false,
          group: [],
          participants: this.members,
          ...(running && { deadlineInMs: this.deadlineMs, topology: peerGroups(members, round, 'x').topology }),
        };
        if (running) for (const member of members) send(member, { type: 'round', round: { ...this.latest, member: true, group: members.filter((m) => m !== member) } });
        return view(this.latest);
      },
      signal: async (_token, to: string, signal: PeerSignal) => void send(to, { type: 'signal', from: id, signal }),
      watch: (_token, listener) => {
        this.listeners.set(id, listener);
        return () => this.listeners.delete(id);
      },
      leave: async () => undefined,
      close: () => undefined,
    };
  }
}

const task = parseTask({ ...titanic, id: 'tiny-p2p', scheme: 'decentralized', model: { source: 'builtin', architecture: 'tabular-mlp', hiddenUnits: [8] }, training: { ...titanic.training, epochsPerRound: 1, rounds: 2 } });

before(async () => {
  await initBackend({ backend: 'wasm' });
});

async function session(client: DecentralizedClient): Promise<TrainingEvent[]> {
  const events: TrainingEvent[] = [];
  for await (const event of client.run()) events.push(event);
  return events;
}

test('three peers exchange their models every round and end with the same weights', { timeout: 60_000 }, async () => {
  const signalling = new InMemorySignalling(task, 3, 20_000);
  const clients = [0, 1, 2].map((i) => new DecentralizedClient({ api: signalling.port(), taskId: task.id, dataset: syntheticDataset(task, 120, i + 1), wrtc: nodeWrtc(), validation: 0 }));

  const runs = await Promise.all(clients.map(session));

  for (const events of runs) {
    assert.deepEqual(events.filter((e) => e.type === 'round').map((e) => e.type === 'round' && [e.round, e.participants]), [[1, 3], [2, 3]]);
    // While the rounds ran, each was connected to both others (at the end they leave one by one).
    assert.equal(Math.max(...events.map((e) => (e.type === 'peers' ? e.connected : 0))), 2);
    const done = events.at(-1);
    assert.equal(done?.type, 'done');
    assert.ok((done as unknown as { bytesSent: number }).bytesSent > 0);
  }
  const [a, b, c] = clients.map((client) => getFlatWeights(client.model!).values);
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
});

test('a peer whose model never comes is dropped at the deadline; the round does not hang', { timeout: 60_000 }, async () => {
  const signalling = new InMemorySignalling(task, 2, 1_500);
  const alive = new DecentralizedClient({ api: signalling.port(), taskId: task.id, dataset: syntheticDataset(task, 60, 1), wrtc: nodeWrtc(), validation: 0, rounds: 1 });
  // The other participant says it is ready, then never connects nor sends anything.
  const silent = signalling.port();
  await silent.join(task.id);
  await silent.ready('p1', 1);
  const started = Date.now();

  const events = await session(alive);

  const round = events.find((e) => e.type === 'round');
  assert.equal(round?.type === 'round' && round.participants, 1);
  assert.ok(events.some((e) => e.type === 'log' && /peer p1 unreachable|no model from p1/.test(e.message)));
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});
