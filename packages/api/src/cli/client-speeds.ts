// `disco simulate --speeds a,b,…`: each simulated client's relative slowness (decision 0013's benchmark and
// tests: one client 5× slower than the others, synchronous or asynchronous).
import type { FederationApi } from '@disco/core';
import { UsageError } from './args.js';

/**
 * `--speeds`: one relative slowness per client (1: as fast as it trains; 5: five times as long per update),
 * each at least 1; a list shorter than the clients is refused, so that no client's speed is a guess.
 */
export function parseSpeeds(text: string | undefined, clients: number, usage: string): number[] | undefined {
  if (text === undefined) return undefined;
  const speeds = text.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)));
  if (speeds.some((s) => !(s >= 1) || !Number.isFinite(s)))
    throw new UsageError(`--speeds takes one number of at least 1 per client (its relative slowness, e.g. 1,1,1,5), got "${text}"`, usage);
  if (speeds.length !== clients) throw new UsageError(`--speeds gives ${speeds.length} speeds for ${clients} clients: give one per client`, usage);
  return speeds;
}

/**
 * A participant's port that makes it `slowness` times slower per update: before each update it sends, it
 * sleeps (slowness − 1) × the time it took to compute it (since it last received weights or last sent an
 * update), as a device that trains that much slower would. Sleeping, not computing: the other clients of the
 * simulation, in the same process, keep the CPU. Every other member is the original's.
 */
export function slowedApi(api: FederationApi, slowness: number, clock: () => number = Date.now): FederationApi {
  if (slowness <= 1) return api;
  let since = clock();
  const downloadWeights: FederationApi['downloadWeights'] = async (taskId, version) => {
    const bytes = await api.downloadWeights(taskId, version);
    since = clock();
    return bytes;
  };
  const submitUpdate: FederationApi['submitUpdate'] = async (token, round, update) => {
    const computing = Math.max(0, clock() - since);
    await new Promise((resolve) => setTimeout(resolve, (slowness - 1) * computing));
    try {
      return await api.submitUpdate(token, round, update);
    } finally {
      since = clock();
    }
  };
  return new Proxy(api, {
    get(target, property) {
      if (property === 'submitUpdate') return submitUpdate;
      if (property === 'downloadWeights') return downloadWeights;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
