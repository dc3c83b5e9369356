import { existsSync, realpathSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import sirv from 'sirv';

/** A Vite-style content hash before the extension (`index-BpX3k9aQ.js`): 8+ letters/digits with a digit or capital. */
const HASHED = /[.-](?=[A-Za-z0-9_]*[0-9A-Z])[A-Za-z0-9_]{8,}\.[a-z0-9]+$/;

/** Whether a file name carries a content hash, and so may be cached for good. */
export function isHashedName(name: string): boolean {
  return HASHED.test(name);
}

/** A path segment that starts with a dot, `.well-known` aside. */
const DOTFILE = /\/\.(?!well-known(\/|$))/;

export type StaticHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean;

/**
 * Serves the files of `root` for GET/HEAD through sirv (the demo portal, the kit's bundle, worker and
 * wasm): ETag and 304, the pre-compressed `.br`/`.gz` beside a file when the client accepts it,
 * `application/wasm`, no dotfiles (`.well-known` aside), nothing reached through a symlink that leaves the
 * folder. Hashed names are `immutable` for a year; others are revalidated at every use (`no-cache`).
 * Files are looked up at each request (sirv's `dev` lookup: a rebuilt folder needs no restart, and a
 * symlink loop cannot stop the start); dotfiles and escaping symlinks are refused here, before sirv.
 * Returns false when no file matches.
 */
export function createStatic(root: string): StaticHandler {
  const base = realpathSync(root);
  const serve = sirv(base, {
    dev: true,
    etag: true,
    brotli: true,
    gzip: true,
    dotfiles: false,
    setHeaders(res, pathname) {
      res.setHeader('cache-control', isHashedName(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      // sirv has just set `Vary: Accept-Encoding`, replacing the CORS policy's `Vary: Origin`.
      if (res.hasHeader('access-control-allow-origin')) res.setHeader('vary', 'Origin, Accept-Encoding');
    },
  });

  /** sirv's candidates for a path (itself, `.html`, `/index.html`, with `.br`/`.gz`): none may resolve outside `base`. */
  const escapes = (decoded: string): boolean => {
    const uri = decoded.replace(/\/$/, '');
    for (const stem of [uri, `${uri}/index`])
      for (const ext of ['', '.html', '.htm'])
        for (const enc of ['', '.br', '.gz']) {
          const file = path.join(base, stem + ext + enc);
          if (!existsSync(file)) continue;
          const real = realpathSync(file);
          if (real !== base && !real.startsWith(base + path.sep)) return true;
        }
    return false;
  };

  return (req, res, pathname) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let decoded = pathname;
    try {
      decoded = decodeURI(pathname);
    } catch {
      return false;
    }
    const normalized = path.posix.normalize(decoded);
    if (decoded.includes('\0') || DOTFILE.test(normalized) || escapes(normalized)) return false;
    let matched = true;
    serve(req, res, () => {
      matched = false;
    });
    return matched;
  };
}
