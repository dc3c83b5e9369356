import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../data/random.js';
import { encodeUpdate, fixedPointCode, sumModular } from '../secure/fixed-point.js';
import { simulatedIds } from '../secure/testing.js';
import { decodeSecureMessage, encodeSecureMessage, SecurePeerRound, type SecureMessage, type SecureMessageKind, type SecurePeerOutcome } from './secure-round.js';

const D = 50;
const code = fixedPointCode({ clipNorm: 1, maxParticipants: 8, maxWeight: 10 });

function inputs(n: number): Uint32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const random = mulberry32(i + 1);
    const update = Float32Array.from({ length: D }, () => (random() - 0.5) * 0.2);
    return encodeUpdate({ update, weight: i + 1 }, code, random);
  });
}

interface Mesh {
  rounds: Map<string, SecurePeerRound>;
  /** Every message delivered, decoded. */
  log: { from: string; to: string; message: SecureMessage }[];
  vanish(id: string): void;
}

/**
 * n members passing messages in memory (delivered on a later tick). `vanishAfter[id] = [kind, k]`: the member vanishes
 * once it has sent its `kind` message to k others (nothing from it or to it is delivered after that, and the others
 * see it gone).
 */
function mesh(ids: string[], vanishAfter: Record<string, [SecureMessageKind, number]> = {}, stepMs = 1_500): Mesh {
  const rounds = new Map<string, SecurePeerRound>();
  const gone = new Set<string>();
  const log: Mesh['log'] = [];
  const start = Date.now();
  const deadlines = { keys: start + stepMs, shares: start + 2 * stepMs, masked: start + 3 * stepMs, views: start + 4 * stepMs, unmask: start + 5 * stepMs };
  const self: Mesh = {
    rounds,
    log,
    vanish(id) {
      gone.add(id);
      for (const [other, round] of rounds) if (other === id) round.close();
      else round.markGone(id);
    },
  };
  for (const id of ids) {
    const sent = new Map<SecureMessageKind, number>();
    rounds.set(
      id,
      new SecurePeerRound({
        id,
        taskId: 'secure-peers',
        round: 1,
        members: ids,
        length: D + 1,
        deadlines,
        transport: {
          reachable: (peer) => !gone.has(peer),
          send: async (to, bytes) => {
            if (gone.has(id) || gone.has(to)) throw new Error('gone');
            const message = decodeSecureMessage(bytes);
            const kind = message.kind;
            sent.set(kind, (sent.get(kind) ?? 0) + 1);
            if (sent.get(kind)! > (vanishAfter[id]?.[0] === kind ? vanishAfter[id][1] : Infinity)) {
              self.vanish(id);
              throw new Error('gone');
            }
            setTimeout(() => {
              if (gone.has(to)) return;
              log.push({ from: id, to, message });
              rounds.get(to)?.receive(id, bytes);
            });
          },
        },
      }),
    );
  }
  return self;
}

/** Runs the round on every member not listed in `skip`; returns their outcomes (null for one that failed at setup). */
async function play(m: Mesh, data: Uint32Array[], ids: string[], options: { dropBeforeMasking?: string[] } = {}): Promise<Map<string, SecurePeerOutcome | null>> {
  const outcomes = await Promise.all(
    ids.map(async (id, i): Promise<SecurePeerOutcome | null> => {
      const round = m.rounds.get(id)!;
      try {
        await round.setup();
      } catch {
        return null;
      }
      if (options.dropBeforeMasking?.includes(id)) {
        // It vanishes once its shares reached every other member (delivery is on a later tick): it dealt, then left.
        const delivered = () => m.log.filter((e) => e.from === id && e.message.kind === 'shares').length;
        for (let tries = 0; delivered() < ids.length - 1 && tries < 200; tries++) await new Promise((resolve) => setTimeout(resolve, 5));
        m.vanish(id);
        return null;
      }
      return round.aggregate(data[i]);
    }),
  );
  return new Map(ids.map((id, i) => [id, outcomes[i]]));
}

for (const n of [3, 5]) {
  test(`${n} members: every member unmasks the plain sum of the quantized inputs, bit for bit`, async () => {
    const ids = simulatedIds(n);
    const data = inputs(n);
    const m = mesh(ids);

    const outcomes = await play(m, data, ids);

    const expected = sumModular(data);
    for (const [id, outcome] of outcomes) {
      assert.ok(outcome?.ok, `${id}: ${outcome && !outcome.ok ? outcome.reason : 'no outcome'}`);
      assert.deepEqual(outcome.sum, expected, id);
      assert.deepEqual(outcome.survivors, ids);
      assert.equal(outcome.threshold, Math.floor(n / 2) + 1);
    }
    // What travelled of each input is masked: no member ever received another's plain words.
    for (const { from, message } of m.log.filter((e) => e.message.kind === 'masked')) {
      assert.notDeepEqual((message as Extract<SecureMessage, { kind: 'masked' }>).masked, data[ids.indexOf(from)]);
    }
    for (const round of m.rounds.values()) round.close();
  });
}

test('a member that vanishes after masking stays in the sum: the survivors unmask all five inputs', async () => {
  const ids = simulatedIds(5);
  const data = inputs(5);
  const m = mesh(ids, { p02: ['masked', 4] });

  const outcomes = await play(m, data, ids);

  const expected = sumModular(data);
  for (const id of ids.filter((id) => id !== 'p02')) {
    const outcome = outcomes.get(id);
    assert.ok(outcome?.ok, `${id}: ${outcome && !outcome.ok ? outcome.reason : 'no outcome'}`);
    assert.deepEqual(outcome.sum, expected, id);
    assert.deepEqual(outcome.survivors, ids);
  }
  for (const round of m.rounds.values()) round.close();
});

test('a member that vanishes while sending its masked input (to 2 of 4) is left out by all, as the views agree', async () => {
  const ids = simulatedIds(5);
  const data = inputs(5);
  const m = mesh(ids, { p02: ['masked', 2] });

  const outcomes = await play(m, data, ids);

  const expected = sumModular(data.filter((_, i) => i !== 2));
  for (const id of ids.filter((id) => id !== 'p02')) {
    const outcome = outcomes.get(id);
    assert.ok(outcome?.ok, `${id}: ${outcome && !outcome.ok ? outcome.reason : 'no outcome'}`);
    assert.deepEqual(outcome.sum, expected, id);
    assert.deepEqual(outcome.survivors, ids.filter((id) => id !== 'p02'));
  }
  for (const round of m.rounds.values()) round.close();
});

test('a member that vanishes before masking is left out: the survivors unmask the sum of the other four', async () => {
  const ids = simulatedIds(5);
  const data = inputs(5);
  const m = mesh(ids);

  const outcomes = await play(m, data, ids, { dropBeforeMasking: ['p01'] });

  const expected = sumModular(data.filter((_, i) => i !== 1));
  for (const id of ids.filter((id) => id !== 'p01')) {
    const outcome = outcomes.get(id);
    assert.ok(outcome?.ok, `${id}: ${outcome && !outcome.ok ? outcome.reason : 'no outcome'}`);
    assert.deepEqual(outcome.sum, expected, id);
    assert.deepEqual(outcome.dealers, ids);
    assert.deepEqual(outcome.survivors, ids.filter((id) => id !== 'p01'));
  }
  for (const round of m.rounds.values()) round.close();
});

test('below the threshold the round is abandoned by every member left, nothing unmasked', async () => {
  const ids = simulatedIds(5);
  const m = mesh(ids, {}, 400);

  const outcomes = await play(m, inputs(5), ids, { dropBeforeMasking: ['p00', 'p01', 'p02'] });

  for (const id of ['p03', 'p04']) {
    const outcome = outcomes.get(id);
    assert.equal(outcome?.ok, false);
    assert.match(outcome.ok ? '' : outcome.reason, /only 2 masked inputs arrived, fewer than the threshold 3: the round is abandoned/);
  }
  for (const round of m.rounds.values()) round.close();
});

test('a lying peer that asks a survivor about contradictory survivor sets gets a double-reveal refusal, not both shares', async () => {
  const ids = simulatedIds(4);
  const m = mesh(ids);
  const outcomes = await play(m, inputs(4), ids);
  assert.ok([...outcomes.values()].every((o) => o?.ok));

  // p03 already asked p01 with everyone surviving (so p01 revealed its share of p00's self-mask); now it says p00 dropped.
  m.rounds.get('p01')!.receive('p03', encodeSecureMessage({ kind: 'unmaskRequest', round: 1, survivors: ['p01', 'p02', 'p03'] }));
  await new Promise((resolve) => setTimeout(resolve, 20));

  const replies = m.log.filter((e) => e.from === 'p01' && e.to === 'p03' && /unmaskResponse|refusal/.test(e.message.kind)).map((e) => e.message);
  assert.deepEqual(replies.map((r) => r.kind), ['unmaskResponse', 'refusal']);
  const refusal = replies[1] as Extract<SecureMessage, { kind: 'refusal' }>;
  assert.equal(refusal.code, 'double-reveal');
  assert.match(refusal.message, /p01 already revealed a self-mask share of p00 this round and refuses its mask-key share/);
  for (const round of m.rounds.values()) round.close();
});
