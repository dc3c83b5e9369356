// `disco simulate --speeds a,b,…`: each simulated client's relative slowness (decision 0013's benchmark and
// tests: one client 5× slower than the others, synchronous or asynchronous), which core's FederatedClient
// applies (`slowdown`).
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
