import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TO_ALL_MAX, MAX_SECURE_MEMBERS, peerGroups, roundGroups } from './topology.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, '0')}`);

test('small rounds are all-to-all', () => {
  const { topology, groups } = peerGroups(['c', 'a', 'b'], 1, 'task');
  assert.equal(topology, 'all-to-all');
  assert.deepEqual(groups, { a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] });
});

test('larger rounds use an exponential graph: symmetric, O(log n) neighbours, connected', () => {
  for (const n of [ALL_TO_ALL_MAX + 1, 16, 33, 100]) {
    const { topology, groups } = peerGroups(ids(n), 3, 'task');
    assert.equal(topology, 'exponential');
    const degrees = new Set(Object.values(groups).map((g) => g.length));
    assert.equal(degrees.size, 1, `every member has the same degree (n=${n})`);
    assert.ok([...degrees][0] <= 2 * Math.ceil(Math.log2(n)));
    for (const [id, group] of Object.entries(groups)) for (const other of group) assert.ok(groups[other].includes(id), 'symmetric');
    const seen = new Set(['p000']);
    const queue = ['p000'];
    while (queue.length) {
      for (const next of groups[queue.shift()!]) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(next);
      }
    }
    assert.equal(seen.size, n, 'connected');
  }
});

test('groups are deterministic per round and reshuffled between rounds', () => {
  assert.deepEqual(peerGroups(ids(20), 5, 't'), peerGroups(ids(20).reverse(), 5, 't'));
  assert.notDeepEqual(peerGroups(ids(20), 5, 't').groups, peerGroups(ids(20), 6, 't').groups);
});

test('repeated neighbourhood averaging reaches consensus on the average', () => {
  const n = 40;
  const members = ids(n);
  let values = new Map(members.map((id, i) => [id, i * i]));
  const mean = [...values.values()].reduce((a, b) => a + b) / n;
  for (let round = 1; round <= 12; round++) {
    const { groups } = peerGroups(members, round, 'consensus');
    values = new Map(members.map((id) => [id, [id, ...groups[id]].reduce((s, j) => s + values.get(j)!, 0) / (groups[id].length + 1)]));
  }
  for (const v of values.values()) assert.ok(Math.abs(v - mean) < 1e-3 * mean, `${v} ≈ ${mean}`);
});

test('a secure task\'s rounds are all-to-all at any size, with at most 255 members', () => {
  const secure = { id: 'task', privacy: { secureAggregation: true } };
  const twenty = roundGroups(ids(20), 1, secure);
  assert.equal(twenty.topology, 'all-to-all');
  assert.ok(Object.values(twenty.groups).every((g) => g.length === 19));
  const many = roundGroups(ids(300), 1, secure);
  assert.equal(many.members.length, MAX_SECURE_MEMBERS);
  assert.deepEqual(many.members, ids(300).slice(0, MAX_SECURE_MEMBERS));
  assert.equal(many.groups[many.members[0]].length, MAX_SECURE_MEMBERS - 1);
  assert.equal(roundGroups(ids(20), 1, { id: 'task', privacy: { secureAggregation: false } }).topology, 'exponential');
});
