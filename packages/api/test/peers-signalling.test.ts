import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRPCError } from '@trpc/server';
import type { DiscoApiError, PeerServerEvent } from '@disco/core';
import { createCaller } from '../src/router.js';
import { createApp, type App } from '../src/server.js';
import { pendingSignals } from '../src/services/signalling.js';
import type { Context } from '../src/trpc.js';
import { encodeUpdate, putUpdate, testApp, testServer, testTask } from './helpers.js';

const peerTask = testTask({ id: 'peer-task', scheme: 'decentralized', minParticipants: 2 });
const otherPeerTask = testTask({ id: 'other-peer-task', scheme: 'decentralized' });
const federatedTask = testTask({ id: 'fed-task' });

function fresh(t: { after(fn: () => void): void }, options: Parameters<typeof createApp>[0] = {}): Promise<App> {
  return testApp(t, { builtinTasks: [peerTask, otherPeerTask, federatedTask], iceServers: [{ urls: 'stun:127.0.0.1:3478' }], ...options });
}

const caller = (app: App, token: string | null = null) => createCaller({ deps: app.deps, token, address: '10.0.0.1' } satisfies Context);

async function joinPeer(app: App, taskId = 'peer-task') {
  const joined = await caller(app).federation.join({ taskId });
  return { id: joined.participantId, token: joined.token, api: caller(app, joined.token) };
}

async function refused(promise: Promise<unknown>, trpcCode: string, apiCode: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TRPCError, String(error));
  assert.equal(error.code, trpcCode);
  assert.equal((error.cause as DiscoApiError).code, apiCode);
  assert.match(error.message, message);
}

const offer = { kind: 'rtc' as const, connection: 'c1', data: { type: 'offer' as const, sdp: 'v=0\r\n' } };

/** The events of a subscription, collected until `stop()`. */
async function subscribe(app: App, token: string) {
  const controller = new AbortController();
  const events: PeerServerEvent[] = [];
  // The abort signal of a subscription is an option of the caller (the WebSocket adapter passes its own).
  const stream = await createCaller({ deps: app.deps, token: null, address: '10.0.0.1' }, { signal: controller.signal }).peers.onEvent({ token });
  const done = (async () => {
    for await (const event of stream) events.push(event);
  })().catch(() => undefined);
  return {
    events,
    async until(predicate: (events: PeerServerEvent[]) => boolean, timeoutMs = 3000) {
      const started = Date.now();
      while (!predicate(events)) {
        if (Date.now() - started > timeoutMs) assert.fail(`timed out; events: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}

test('a peer joins a decentralized task and gets the ICE servers of the configuration', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app);

  const joined = await a.api.peers.join();

  assert.equal(joined.participantId, a.id);
  assert.deepEqual(joined.iceServers, [{ urls: 'stun:127.0.0.1:3478' }]);
  assert.equal(joined.round, null);
});

test('a signal reaches its addressee through the subscription, with the sender taken from the token', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app);
  const b = await joinPeer(app);
  const inbox = await subscribe(app, b.token);

  await a.api.peers.signal({ to: b.id, signal: offer });

  await inbox.until((events) => events.some((e) => e.type === 'signal'));
  await inbox.stop();
  assert.deepEqual(
    inbox.events.filter((e) => e.type === 'signal'),
    [{ type: 'signal', from: a.id, signal: offer }],
  );
  assert.equal(pendingSignals(app.deps.db, b.id), 0, 'delivered signals are deleted');
});

test('a signal addressed to a participant of another task is refused', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app);
  const stranger = await joinPeer(app, 'other-peer-task');

  await refused(a.api.peers.signal({ to: stranger.id, signal: offer }), 'FORBIDDEN', 'FORBIDDEN', /it is not a participant of task "peer-task" \(signals stay within a task\)/);
  await refused(a.api.peers.signal({ to: 'p_nobody', signal: offer }), 'FORBIDDEN', 'FORBIDDEN', /"p_nobody": it is not a participant of task "peer-task"/);
  assert.equal(pendingSignals(app.deps.db, stranger.id), 0);
});

test('a token cannot impersonate another participant: signals, readiness and subscriptions follow the token', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app);
  const b = await joinPeer(app);
  const c = await joinPeer(app);
  const inbox = await subscribe(app, c.token);

  // A sender field in the message is not part of the schema: it is dropped, the token decides.
  await a.api.peers.signal({ to: c.id, signal: offer, from: b.id } as never);
  await inbox.until((events) => events.some((e) => e.type === 'signal'));
  await inbox.stop();
  assert.deepEqual(
    inbox.events.filter((e) => e.type === 'signal').map((e) => e.type === 'signal' && e.from),
    [a.id],
  );
  // Nor can anyone read another's signals or act without a valid token.
  await refused(caller(app, 'forged-token').peers.signal({ to: c.id, signal: offer }), 'UNAUTHORIZED', 'UNAUTHORIZED', /unknown participant token/);
  await refused(caller(app).peers.ready({ round: 1 }), 'UNAUTHORIZED', 'UNAUTHORIZED', /a participant token is required/);
  await refused(
    (async () => {
      const s = await createCaller({ deps: app.deps, token: null, address: 'x' }).peers.onEvent({ token: 'forged-token' });
      await s[Symbol.asyncIterator]().next();
    })(),
    'UNAUTHORIZED',
    'UNAUTHORIZED',
    /unknown participant token/,
  );
  await refused(a.api.peers.signal({ to: a.id, signal: offer }), 'BAD_REQUEST', 'BAD_REQUEST', /cannot signal itself/);
});

test('malformed signals are refused by the schema', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app);
  const b = await joinPeer(app);
  const huge = { kind: 'rtc', connection: 'c', data: { type: 'offer', sdp: 'x'.repeat(70_000) } };

  for (const signal of [huge, { kind: 'rtc', connection: 'c', data: { type: 'bogus' } }, { kind: 'weights', data: [1, 2, 3] }])
    await assert.rejects(a.api.peers.signal({ to: b.id, signal } as never), (e: TRPCError) => e.code === 'BAD_REQUEST');
  assert.equal(pendingSignals(app.deps.db, b.id), 0);
});

test('peers of a federated task are refused with a clear error', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app, 'fed-task');
  const b = await joinPeer(app, 'fed-task');

  await refused(a.api.peers.join(), 'BAD_REQUEST', 'SCHEME_MISMATCH', /task "fed-task" is federated, not decentralized/);
  await refused(a.api.peers.signal({ to: b.id, signal: offer }), 'BAD_REQUEST', 'SCHEME_MISMATCH', /not decentralized/);
});

test('a round starts once every active peer is ready, with all-to-all groups and a deadline', async (t) => {
  const app = await fresh(t, { timings: { roundDeadlineMs: 4000 } });
  const [a, b, c] = [await joinPeer(app), await joinPeer(app), await joinPeer(app)];

  const first = await a.api.peers.ready({ round: 1 });
  assert.equal(first.phase, 'gathering');
  assert.deepEqual(first.members, [a.id]);
  await b.api.peers.ready({ round: 1 });
  const started = await c.api.peers.ready({ round: 1 });

  assert.equal(started.phase, 'running');
  assert.equal(started.round, 1);
  assert.deepEqual(started.members, [a.id, b.id, c.id].sort());
  assert.equal(started.topology, 'all-to-all');
  assert.deepEqual(started.group, [a.id, b.id].sort());
  assert.ok(started.member);
  assert.ok(started.deadlineInMs! > 3000 && started.deadlineInMs! <= 4000);
});

test('a gathering round starts without a silent peer once the gathering time is over', async (t) => {
  const app = await fresh(t, { timings: { heartbeatTimeoutMs: 300 } });
  const [a, b] = [await joinPeer(app), await joinPeer(app)];
  await joinPeer(app); // never ready
  await a.api.peers.ready({ round: 1 });
  const waiting = await b.api.peers.ready({ round: 1 });
  assert.equal(waiting.phase, 'gathering');

  await new Promise((r) => setTimeout(r, 350));
  await b.api.federation.heartbeat();
  await a.api.federation.heartbeat();
  const joined = await a.api.peers.join();

  assert.equal(joined.round?.phase, 'running');
  assert.deepEqual(joined.round?.members, [a.id, b.id].sort());
});

test('a peer that is late for a running round is told so, and a round far ahead is refused', async (t) => {
  const app = await fresh(t);
  const [a, b] = [await joinPeer(app), await joinPeer(app)];
  await a.api.peers.ready({ round: 1 });
  await b.api.peers.ready({ round: 1 });
  const late = await joinPeer(app);

  const info = await late.api.peers.ready({ round: 1 });

  assert.equal(info.phase, 'running');
  assert.equal(info.member, false);
  assert.deepEqual(info.group, []);
  await refused(late.api.peers.ready({ round: 3 }), 'CONFLICT', 'WRONG_ROUND', /round 3 cannot start yet: the latest round of task "peer-task" is 1/);
});

test('round changes reach subscribers with their own group', async (t) => {
  const app = await fresh(t);
  const [a, b] = [await joinPeer(app), await joinPeer(app)];
  const inbox = await subscribe(app, a.token);

  await a.api.peers.ready({ round: 1 });
  await b.api.peers.ready({ round: 1 });

  await inbox.until((events) => events.some((e) => e.type === 'round' && e.round.phase === 'running'));
  await inbox.stop();
  const running = inbox.events.find((e) => e.type === 'round' && e.round.phase === 'running');
  assert.deepEqual(running?.type === 'round' && running.round.group, [b.id]);
});

test('the server takes no weights for a decentralized task', async (t) => {
  const server = await testServer({ tasks: [peerTask] });
  t.after(() => server.cleanup());
  const joined = await createCaller({ deps: server.deps, token: null, address: 'x' }).federation.join({ taskId: 'peer-task' });

  const { status, body } = await putUpdate(server.url, joined.token, 1, encodeUpdate(new Float32Array(9), { taskId: 'peer-task' }), { taskId: 'peer-task' });

  assert.equal(status, 400);
  assert.equal(body.code, 'SCHEME_MISMATCH');
  assert.equal(body.message, 'task "peer-task" is decentralized: the server takes no weights for it');
});

test('ICE servers are configuration of disco serve: none by default, STUN and TURN from --ice-servers or the environment', async () => {
  const { serveOptions } = await import('../src/cli/serve.js');
  const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const parsed = serveOptions(argv, env);
    assert.ok(!parsed.help);
    return parsed.options.iceServers;
  };

  assert.deepEqual(parse([]), []);
  assert.deepEqual(parse(['--ice-servers', 'stun:127.0.0.1:3478,turn:alice:s3cret@turn.example.org:3478?transport=udp']), [
    { urls: 'stun:127.0.0.1:3478' },
    { urls: 'turn:turn.example.org:3478?transport=udp', username: 'alice', credential: 's3cret' },
  ]);
  assert.deepEqual(parse([], { DISCO_ICE_SERVERS: 'stun:10.0.0.1:3478' }), [{ urls: 'stun:10.0.0.1:3478' }]);
  assert.throws(() => parse(['--ice-servers', 'http://example.org']), /"http:\/\/example.org" is not a stun:, stuns:, turn: or turns: URL/);
  assert.throws(() => parse(['--ice-servers', 'turn:turn.example.org:3478']), /needs credentials/);
});
