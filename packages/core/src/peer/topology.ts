import { seededPermutation } from '../data/random.js';
import { crc32 } from '../weights/crc32.js';

/**
 * Who aggregates with whom in a round of decentralized training.
 *
 * - **all-to-all** (up to {@link ALL_TO_ALL_MAX} members): every member receives every other member's
 *   model and aggregates them all with the task's strategy, in the same order, so that all members end
 *   the round with the same model (exact FedAvg without a server). It costs n − 1 transfers each.
 * - **exponential** (larger rounds): the members are placed on a ring in an order reshuffled every round,
 *   and each exchanges with the members 2^0, 2^1, 2^2, … places away on both sides: at most
 *   2⌈log₂ n⌉ neighbours. The relation is symmetric and every member has the same degree, so averaging
 *   over one's closed neighbourhood with equal weights is a doubly stochastic mixing step: it preserves
 *   the average model and contracts the disagreement by the graph's second eigenvalue every round
 *   (exponential graphs have a spectral gap of order 1/log n, so consensus needs O(log n) rounds per
 *   decade of precision), which is what decentralized SGD's convergence needs (D-PSGD, Lian et al. 2017;
 *   Ying et al. 2021 for exponential graphs). The reshuffle makes successive rounds mix different peers.
 */
export type TopologyName = 'all-to-all' | 'exponential';

/** Largest round whose members all exchange with each other. */
export const ALL_TO_ALL_MAX = 8;

/** The most members of a secure round: Shamir shares over GF(2^8) are indexed 1..255 (decision 0010). */
export const MAX_SECURE_MEMBERS = 255;

export interface PeerGroups {
  topology: TopologyName;
  /** Each member's neighbours, sorted; the member itself is not listed. */
  groups: Record<string, string[]>;
}

/**
 * The groups of one round. Deterministic: the same members, round and seed give the same groups, so a
 * server (or the members themselves) can recompute them.
 */
export function peerGroups(members: readonly string[], round: number, seed: string, allToAllMax = ALL_TO_ALL_MAX): PeerGroups {
  const sorted = [...new Set(members)].sort();
  const n = sorted.length;
  const groups: Record<string, string[]> = {};
  if (n <= allToAllMax) {
    for (const id of sorted) groups[id] = sorted.filter((other) => other !== id);
    return { topology: 'all-to-all', groups };
  }
  const order = seededPermutation(n, crc32(new TextEncoder().encode(`${seed}:${round}`)));
  const ring = Array.from(order, (i) => sorted[i]);
  ring.forEach((id, position) => {
    const neighbours = new Set<string>();
    for (let hop = 1; hop < n; hop *= 2) {
      neighbours.add(ring[(position + hop) % n]);
      neighbours.add(ring[(position - hop + n) % n]);
    }
    neighbours.delete(id);
    groups[id] = [...neighbours].sort();
  });
  return { topology: 'exponential', groups };
}

/**
 * The members and groups of a round of `task`, from the participants ready for it. A task with secure aggregation
 * is always all-to-all, whatever the round's size: a masked sum needs every member's masked input and shares, so a
 * member with only some neighbours could unmask nothing. Such a round takes at most {@link MAX_SECURE_MEMBERS}
 * members (the first by id); the others are not members and catch up from one. The server and the in-memory fake
 * both call this.
 */
export function roundGroups(ready: readonly string[], round: number, task: { id: string; privacy: { secureAggregation: boolean } }): PeerGroups & { members: string[] } {
  const sorted = [...new Set(ready)].sort();
  if (!task.privacy.secureAggregation) return { members: sorted, ...peerGroups(sorted, round, task.id) };
  const members = sorted.slice(0, MAX_SECURE_MEMBERS);
  return { members, ...peerGroups(members, round, task.id, Infinity) };
}
