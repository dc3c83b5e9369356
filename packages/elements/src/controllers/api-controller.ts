import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { DiscoApi } from '../api/disco-api.js';
import { remoteApiFor } from '../api/remote-api.js';

/** An element that talks to a Disco server: a `server` URL attribute or an injected `api`. */
export interface ApiHost extends ReactiveControllerHost {
  /** An injected implementation (e.g. `FakeDiscoApi`); wins over `server`. */
  api?: DiscoApi;
  /** The base URL of a Disco server, e.g. `https://disco.example.org`. */
  server?: string;
}

/**
 * Resolves the {@link DiscoApi} an element uses: its `api` property when set, else one shared client per
 * `server` URL (so that several elements on a page share one connection).
 */
export class ApiController implements ReactiveController {
  constructor(private readonly host: ApiHost) {
    host.addController(this);
  }

  /** The API to use now, or `undefined` when the element has neither `api` nor `server`. */
  get api(): DiscoApi | undefined {
    if (this.host.api) return this.host.api;
    const server = this.host.server?.trim();
    return server ? remoteApiFor(server) : undefined;
  }

  hostConnected(): void {}
}
