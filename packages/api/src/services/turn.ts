import { createHmac } from 'node:crypto';
import type { IceServer } from '@disco/core';
import type { TurnConfig } from '../trpc.js';

/**
 * Short-lived TURN credentials in the TURN REST API scheme that coturn's `use-auth-secret` checks: the
 * username is `<expiry, unix seconds>:<participant id>`, the credential base64(HMAC-SHA1(secret, username)).
 * coturn recomputes the HMAC with the same `static-auth-secret` and refuses an expired username, so no
 * credential is stored anywhere and a leaked one stops working at its expiry.
 */
export function turnCredentials(secret: string, participantId: string, expiresAt: number): { username: string; credential: string } {
  const username = `${expiresAt}:${participantId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** The TURN servers of `config` with credentials for `participantId`, valid `ttlSeconds` from `now` (ms). */
export function turnServersFor(config: TurnConfig, participantId: string, now = Date.now()): IceServer[] {
  const { username, credential } = turnCredentials(config.secret, participantId, Math.floor(now / 1000) + config.ttlSeconds);
  return [{ urls: config.urls.length === 1 ? config.urls[0] : config.urls, username, credential }];
}
