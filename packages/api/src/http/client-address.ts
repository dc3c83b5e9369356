import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Which proxies in front of the server are trusted to report the client's address in `X-Forwarded-For`:
 * a number of hops (the nearest `n` proxies), or the proxies' addresses and subnets (`10.0.0.0/8`, `::1`).
 * Without it (the default), the client is the socket's peer and the header is ignored.
 */
export type TrustProxy = number | readonly string[];

/** `::ffff:10.0.0.1` → `10.0.0.1`, so that IPv4 rules match IPv4 peers of a dual-stack socket. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Checks a `--trust-proxy` list entry: an IPv4/IPv6 address or a subnet in CIDR notation. */
export function parseTrustedProxy(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } {
  const [address, prefixText, extra] = entry.split('/');
  const version = isIP(address);
  const prefix = prefixText === undefined ? undefined : Number(prefixText);
  if (!version || extra !== undefined || (prefix !== undefined && (!/^\d+$/.test(prefixText) || prefix > (version === 4 ? 32 : 128))))
    throw new Error(`"${entry}" is not an IP address or a subnet (e.g. 10.0.0.1, 10.0.0.0/8, ::1, fd00::/8)`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * The function giving a request's client address. With trusted proxies, the chain is the
 * `X-Forwarded-For` entries followed by the socket's peer; it is read from the right (the nearest hop),
 * skipping trusted proxies, and the first untrusted address is the client. The leftmost entries, which
 * the client writes itself, are never believed beyond what a trusted proxy vouches for.
 */
export function clientAddressOf(trust: TrustProxy | undefined): (req: IncomingMessage) => string {
  const peer = (req: IncomingMessage) => plain(req.socket.remoteAddress ?? 'unknown');
  if (trust === undefined || trust === 0 || (Array.isArray(trust) && trust.length === 0)) return peer;
  let trusted: (address: string, hop: number) => boolean;
  if (typeof trust === 'number') trusted = (_address, hop) => hop < trust;
  else {
    const list = new BlockList();
    for (const entry of trust as readonly string[]) {
      const { address, prefix, family } = parseTrustedProxy(entry);
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, prefix, family);
    }
    trusted = (address) => {
      const version = isIP(address);
      return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
    };
  }
  return (req) => {
    const header = req.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((a) => plain(a.trim()))
      .filter(Boolean);
    const chain = [...forwarded, peer(req)];
    // From the nearest hop outwards: the first address not trusted is the client.
    for (let hop = 0; hop < chain.length; hop++) {
      const address = chain[chain.length - 1 - hop];
      if (!trusted(address, hop)) return address;
    }
    // Every hop is trusted: the farthest one the proxies report.
    return chain[0];
  };
}
