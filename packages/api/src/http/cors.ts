import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './respond.js';

/**
 * CORS as an allow-list. Requests without an `Origin`, or from the server's own origin, pass; an origin in
 * the list (or `*` in the list) gets the CORS headers; any other origin is refused with 403 before anything
 * runs (a browser would hide the answer, but the request would still have had its effect).
 */
export interface CorsPolicy {
  /** Handles CORS for `req`; returns false when it answered (preflight or refusal). */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether a WebSocket upgrade from this request's origin is allowed (CORS does not cover WebSockets). */
  allowsUpgrade(req: IncomingMessage): boolean;
}

export function createCors(allowList: readonly string[]): CorsPolicy {
  const any = allowList.includes('*');
  const allowed = new Set(allowList.map((o) => o.replace(/\/$/, '')));

  const verdict = (req: IncomingMessage): 'none' | 'same' | 'allowed' | 'refused' => {
    const origin = req.headers.origin;
    if (!origin) return 'none';
    try {
      if (new URL(origin).host === req.headers.host) return 'same';
    } catch {
      return 'refused';
    }
    return any || allowed.has(origin) ? 'allowed' : 'refused';
  };

  const policy = ((req, res) => {
    const v = verdict(req);
    if (v === 'refused') {
      sendJson(res, 403, { code: 'FORBIDDEN', message: `origin ${req.headers.origin} is not allowed (CORS allow-list of this server)` });
      return false;
    }
    if (v === 'allowed') {
      res.setHeader('access-control-allow-origin', req.headers.origin!);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'x-disco-model-version, content-length');
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return false;
    }
    return true;
  }) as CorsPolicy;
  policy.allowsUpgrade = (req) => verdict(req) !== 'refused';
  return policy;
}
