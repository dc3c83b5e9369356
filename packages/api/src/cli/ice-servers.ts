import type { IceServer } from '@disco/core';
import { UsageError } from './args.js';

/**
 * `--ice-servers` / `DISCO_ICE_SERVERS`: the STUN/TURN servers `disco serve` hands to the peers of
 * decentralized tasks, comma-separated; TURN credentials go before the host:
 * `stun:stun.example.org:3478,turn:alice:secret@turn.example.org:3478?transport=udp`. None by default
 * (peers on one machine or one network need none).
 */
export function parseIceServers(text: string, usage: string): IceServer[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(stuns?|turns?):(?:([^:@\s]+):([^@\s]+)@)?([^\s@]+)$/.exec(entry);
      if (!match) throw new UsageError(`--ice-servers: "${entry}" is not a stun:, stuns:, turn: or turns: URL (turn:user:password@host:port)`, usage);
      const [, scheme, username, credential, rest] = match;
      if (scheme.startsWith('turn') && !username) throw new UsageError(`--ice-servers: the TURN server "${entry}" needs credentials (turn:user:password@host:port)`, usage);
      return { urls: `${scheme}:${rest}`, ...(username && { username, credential }) };
    });
}
