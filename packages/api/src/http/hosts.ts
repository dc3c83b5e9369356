import { isIP } from 'node:net';

/**
 * The `Host` allow-list, against DNS rebinding: a page of `evil.example` whose name is made to resolve to
 * this server's address would otherwise be same-origin with it. IP addresses cannot be rebound and pass,
 * as do `localhost` (and `*.localhost`), the listen host, and the names of `allowed` (`.example.org`
 * for the name and its subdomains, `*` for any). Returns the refusal message, or null when allowed.
 */
export function createHostCheck(listenHost: string, allowed: readonly string[]): (host: string | undefined) => string | null {
  const any = allowed.includes('*');
  const names = new Set([listenHost, ...allowed].map((h) => h.toLowerCase().replace(/\.$/, '')));
  return (host) => {
    if (any || host === undefined) return null;
    // `name:port`, `[v6]:port`, or either without a port.
    const name = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '')).toLowerCase().replace(/\.$/, '');
    if (isIP(name) || name === 'localhost' || name.endsWith('.localhost') || names.has(name)) return null;
    for (const entry of names) if (entry.startsWith('.') && (name.endsWith(entry) || name === entry.slice(1))) return null;
    return `host "${name}" is not one this server answers to (protection against DNS rebinding): add it with --allowed-hosts or DISCO_ALLOWED_HOSTS`;
  };
}
