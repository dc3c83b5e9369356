import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRPCError } from '@trpc/server';
import type { DiscoApiError, PeerServerEvent } from '@disco/core';
import { createCaller } from '../src/router.js';
import { createApp, type App } from '../src/server.js';
import { pendingSignals } from '../src/services/signalling.js';
import { SubscriptionLimits } from '../src/services/subscriptions.js';
import type { Context } from '../src/trpc.js';
import { encodeUpdate, putUpdate, TEST_DB, testApp, testServer, testTask } from './helpers.js';

const peerTask = testTask({ id: 'peer-task', scheme: 'decentralized', minParticipants: 2 });
const otherPeerTask = testTask({ id: 'other-peer-task', scheme: 'decentralized' });
const federatedTask = testTask({ id: 'fed-task' });

function fresh(t: { after(fn: () => unknown): void }, options: Parameters<typeof createApp>[0] = {}): Promise<App> {
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
  assert.equal(await pendingSignals(app.deps.db, b.id), 0, 'delivered signals are deleted');
});

test('a signal addressed to a participant of another task is refused', async (t) => {
  const app = await fresh(t);
  const a = await joinPeer(app);
  const stranger = await joinPeer(app, 'other-peer-task');

  await refused(a.api.peers.signal({ to: stranger.id, signal: offer }), 'FORBIDDEN', 'FORBIDDEN', /it is not a participant of task "peer-task" \(signals stay within a task\)/);
  await refused(a.api.peers.signal({ to: 'p_nobody', signal: offer }), 'FORBIDDEN', 'FORBIDDEN', /"p_nobody": it is not a participant of task "peer-task"/);
  assert.equal(await pendingSignals(app.deps.db, stranger.id), 0);
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
  assert.equal(await pendingSignals(app.deps.db, b.id), 0);
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

test('ICE servers are configuration of disco serve: none by default, STUN from --ice-servers or the environment, TURN only with a secret', async () => {
  const { serveOptions } = await import('../src/cli/serve.js');
  const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const parsed = serveOptions(argv, env);
    assert.ok(!parsed.help);
    return parsed.options;
  };

  assert.deepEqual(parse([]).iceServers, []);
  assert.equal(parse([]).turn, undefined);
  assert.deepEqual(parse(['--ice-servers', 'stun:127.0.0.1:3478,stuns:stun.example.org:5349']).iceServers, [
    { urls: 'stun:127.0.0.1:3478' },
    { urls: 'stuns:stun.example.org:5349' },
  ]);
  assert.deepEqual(parse([], { DISCO_ICE_SERVERS: 'stun:10.0.0.1:3478' }).iceServers, [{ urls: 'stun:10.0.0.1:3478' }]);
  assert.throws(() => parse(['--ice-servers', 'http://example.org']), /"http:\/\/example.org" is not a stun: or stuns: URL/);
  // Fixed TURN credentials would be handed to every joiner: refused, pointing to --turn-secret.
  assert.throws(
    () => parse(['--ice-servers', 'turn:alice:s3cret@turn.example.org:3478']),
    /--ice-servers: "turn:…@turn.example.org:3478" is a TURN server: give it with --turn-url and --turn-secret/,
  );
  assert.deepEqual(parse(['--turn-url', 'turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349', '--turn-secret', 's3cret']).turn, {
    urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'],
    secret: 's3cret',
    ttlSeconds: 43200,
  });
  assert.deepEqual(parse([], { DISCO_TURN_URL: 'turn:10.0.0.2:3478', DISCO_TURN_SECRET: 'x', DISCO_TURN_TTL: '600' }).turn, {
    urls: ['turn:10.0.0.2:3478'],
    secret: 'x',
    ttlSeconds: 600,
  });
  assert.throws(() => parse(['--turn-url', 'turn:turn.example.org:3478']), /--turn-url needs --turn-secret/);
  assert.throws(() => parse(['--turn-secret', 'x']), /--turn-secret needs --turn-url/);
  assert.throws(() => parse(['--turn-url', 'turn:a:b@turn.example.org', '--turn-secret', 'x']), /is not a turn: or turns: URL without credentials/);
});

test('TURN REST API credentials: username "<expiry>:<participant>", credential base64(HMAC-SHA1(secret, username))', async (t) => {
  const { turnCredentials } = await import('../src/services/turn.js');
  // Computed independently: printf '1700000000:p_alice' | openssl dgst -sha1 -hmac 'north-secret' -binary | base64
  assert.deepEqual(turnCredentials('north-secret', 'p_alice', 1_700_000_000), {
    username: '1700000000:p_alice',
    credential: 'GCEVDtgXxxOFnZRRsriEf+hQBv8=',
  });

  const app = await fresh(t, { turn: { urls: ['turn:127.0.0.1:3478'], secret: 'north-secret', ttlSeconds: 600 } });
  const a = await joinPeer(app);
  const before = Math.floor(Date.now() / 1000);
  const { iceServers } = await a.api.peers.join();
  const turn = iceServers[1];
  assert.deepEqual(iceServers[0], { urls: 'stun:127.0.0.1:3478' });
  assert.equal(turn.urls, 'turn:127.0.0.1:3478');
  const [expiry, id] = turn.username!.split(':');
  assert.equal(id, a.id);
  assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 601, `expiry ${expiry}`);
  assert.deepEqual(turnCredentials('north-secret', a.id, Number(expiry)).credential, turn.credential);
  const b = await joinPeer(app);
  assert.notEqual((await b.api.peers.join()).iceServers[1].username, turn.username, 'each participant has its own');
});

test('signals: a sender is rate-limited, and a task holds a bounded number of undelivered signal bytes', async (t) => {
  const app = await fresh(t);
  app.deps.signalling = { maxSignalsPerMinute: 5, maxSignalBytesPerTask: 200_000 };
  const [a, b, c] = [await joinPeer(app), await joinPeer(app), await joinPeer(app)];
  const big = { kind: 'rtc' as const, connection: 'c1', data: { type: 'offer' as const, sdp: 'x'.repeat(60_000) } };

  for (let i = 0; i < 3; i++) await a.api.peers.signal({ to: b.id, signal: big });
  await refused(
    a.api.peers.signal({ to: c.id, signal: big }),
    'TOO_MANY_REQUESTS',
    'TOO_MANY_REQUESTS',
    /^task "peer-task" holds 180\d{3} bytes of undelivered signals; this one \(600\d\d bytes\) would pass the limit of 200000 \(signalling.maxSignalBytesPerTask\)/,
  );
  await a.api.peers.signal({ to: c.id, signal: offer });
  await refused(a.api.peers.signal({ to: c.id, signal: offer }), 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', /sent more than 5 signals in a minute \(signalling.maxSignalsPerMinute\)/);
  // The limit is the sender's: another participant still signals.
  await c.api.peers.signal({ to: a.id, signal: offer });
  assert.deepEqual([await pendingSignals(app.deps.db, b.id), await pendingSignals(app.deps.db, c.id)], [3, 1]);
});

test('subscriptions share one poller: opening many adds no timer each, and another instance\'s signal still arrives', async (t) => {
  const app = await fresh(t);
  app.deps.subscriptions = new SubscriptionLimits(100, 100);
  const [a, b] = [await joinPeer(app), await joinPeer(app)];
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const inboxes = await Promise.all(Array.from({ length: 40 }, () => subscribe(app, b.token)));
  await new Promise((r) => setTimeout(r, 100)); // every subscription waiting (a fresh task has no round to announce)

  // On PostgreSQL, node-postgres's pool also keeps one idle timer per idle connection: up to its 10 more, while
  // a timer per subscription would be 40.
  const pool = TEST_DB === 'postgres' ? 10 : 0;
  assert.ok(timers() - before <= 2 + pool, `${timers() - before} timers for 40 subscriptions`);
  // A row written by another instance (no in-process wake-up): the shared poller finds it.
  await app.deps.db.orm.insert(app.deps.db.tables.peerSignals).values({ taskId: 'peer-task', fromId: a.id, toId: b.id, payload: offer, createdAt: Date.now() });
  await Promise.any(inboxes.map((inbox) => inbox.until((events) => events.some((e) => e.type === 'signal'))));
  await Promise.all(inboxes.map((inbox) => inbox.stop()));
});
