// An in-memory driver that runs whole secure rounds (clients and aggregator in one process, messages passed by
// hand) for tests, simulations and benchmarks. Not a transport: the server and the peers wire the same classes.
import { compareIds } from './key-agreement.js';
import { SecureAggregationClient, SecureAggregator, type MaskedInput, type SecureRoundOptions } from './masking.js';

/** Who vanishes, and when, in a simulated round (ids as {@link simulatedIds} names them). */
export interface SimulatedRoundOptions extends Partial<SecureRoundOptions> {
  /** Participants that advertise keys and then vanish before dealing shares (not in U2: no masks involve them). */
  dropBeforeSharing?: readonly string[];
  /** Participants that deal shares and vanish before sending their masked input (in U2, not in U3: excluded). */
  dropBeforeMasking?: readonly string[];
  /** Participants that send their masked input and vanish before unmasking (in U3, included in the sum). */
  dropAfterMasking?: readonly string[];
}

/** What a simulated round produced. */
export interface SimulatedRound {
  /** The unmasked sum mod 2^32 of the included inputs. */
  sum: Uint32Array;
  /** The participants whose inputs are in the sum (U3), sorted. */
  included: string[];
  /** Every masked input the aggregator received: exactly what a server sees of each participant. */
  received: MaskedInput[];
  /** The round's threshold t. */
  threshold: number;
}

/** The participant ids of a simulated round of n: `p00`, `p01`, … (zero-padded, so that id order is input order). */
export function simulatedIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}`);
}

/**
 * Runs one secure round over fixed-point inputs (one per participant, ids from {@link simulatedIds}) with the
 * given drop-outs, and returns the unmasked sum. Rejects with the library's `below-threshold` error when too few
 * remain, as the aggregator abandons the round.
 *
 * @example const { sum } = await simulateSecureRound(inputs, { dropAfterMasking: ['p02'] });
 */
export async function simulateSecureRound(inputs: readonly Uint32Array[], options: SimulatedRoundOptions = {}): Promise<SimulatedRound> {
  const ids = simulatedIds(inputs.length);
  const round = { taskId: options.taskId ?? 'simulated-task', round: options.round ?? 1, threshold: options.threshold };
  const beforeSharing = new Set(options.dropBeforeSharing ?? []);
  const beforeMasking = new Set(options.dropBeforeMasking ?? []);
  const afterMasking = new Set(options.dropAfterMasking ?? []);
  const clients = await Promise.all(ids.map((id) => SecureAggregationClient.create({ id, ...round })));
  const aggregator = new SecureAggregator({ ...round, length: inputs[0]?.length ?? 0 });

  for (const client of clients) aggregator.receiveKeys(client.advertise());
  const roster = aggregator.roster();
  const dealers = clients.filter((c) => !beforeSharing.has(c.id));
  for (const message of await Promise.all(dealers.map((client) => client.shareKeys(roster)))) aggregator.receiveShares(message);

  const maskers = dealers.filter((c) => !beforeMasking.has(c.id));
  const relayed = maskers.map((client) => aggregator.sharesFor(client.id));
  const received = await Promise.all(maskers.map((client, i) => client.maskInput(relayed[i], inputs[ids.indexOf(client.id)])));
  for (const masked of received) aggregator.receiveMasked(masked);

  const request = aggregator.unmaskRequest();
  for (const client of maskers.filter((c) => !afterMasking.has(c.id))) aggregator.receiveUnmask(client.unmask(request));
  const sum = await aggregator.result();
  return { sum, included: [...request.survivors].sort(compareIds), received, threshold: aggregator.threshold };
}
