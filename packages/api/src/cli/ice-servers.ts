import type { IceServer } from '@disco/core';
import { UsageError } from './args.js';

/**
 * `--ice-servers` / `DISCO_ICE_SERVERS`: the STUN servers `disco serve` hands to the peers of
 * decentralized tasks, comma-separated (`stun:stun.example.org:3478`). None by default (peers on one
 * machine or one network need none). TURN servers are refused here: fixed credentials would go to every
 * joiner; `--turn-url` with `--turn-secret` gives each peer its own, expiring ones.
 */
export function parseIceServers(text: string, usage: string): IceServer[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(stuns?|turns?):(?:([^:@\s]+):([^@\s]+)@)?([^\s@]+)$/.exec(entry);
      if (!match) throw new UsageError(`--ice-servers: "${entry}" is not a stun: or stuns: URL (stun:host:port)`, usage);
      const [, scheme, username, , rest] = match;
      if (scheme.startsWith('turn'))
        throw new UsageError(
          `--ice-servers: "${scheme}:${username ? '…@' : ''}${rest}" is a TURN server: give it with --turn-url and --turn-secret (each peer then gets its own expiring credentials; fixed ones would be handed to every joiner)`,
          usage,
        );
      return { urls: `${scheme}:${rest}` };
    });
}
