import type { FederationApi, SignallingApi, TransferStats } from '@disco/core';
import { deserializeError, serializeError, type SerializedError } from './protocol.js';

/**
 * One relay for the ports that the training worker's clients talk through (core's `FederationApi` and
 * `SignallingApi`): the worker gets a stand-in whose calls and subscriptions run on the page, on the
 * element's `DiscoApi` (a real server's `@disco/client` port, or the fake). Workers could open their own
 * connections, but the page owns the server's address, CORS and the fake, and both schemes go one way.
 *
 * Every answer carries the page port's `stats`, so the worker's port reports exactly what the real one
 * counted (`@disco/client`'s definition of bytes, the CLI's too), never a count of its own.
 */

/**
 * How each member of a port crosses: a call returns a promise; a watch takes `(…, listener, onError?)` and
 * returns an unsubscribe function; a member that is itself an object of calls (the federation's `secure`) is a
 * sub-port with a shape of its own, whose members cross as `secure.submitMasked`.
 */
export type PortShape<P> = {
  readonly [K in Exclude<keyof P, 'stats' | 'close'>]: P[K] extends (...args: never[]) => unknown ? 'call' | 'watch' : PortShape<P[K]>;
};

/** The ports relayed, by name, with the shape of each (checked complete by the compiler). */
export const relayedPorts = {
  federation: {
    join: 'call',
    heartbeat: 'call',
    downloadWeights: 'call',
    submitUpdate: 'call',
    skipRound: 'call',
    leave: 'call',
    watchRounds: 'watch',
    secure: {
      advertiseKeys: 'call',
      roster: 'call',
      sendShares: 'call',
      sharesFor: 'call',
      submitMasked: 'call',
      unmaskRequest: 'call',
      revealShares: 'call',
    },
  } satisfies PortShape<FederationApi>,
  signalling: { join: 'call', heartbeat: 'call', downloadInitialModel: 'call', ready: 'call', signal: 'call', leave: 'call', watch: 'watch' } satisfies PortShape<SignallingApi>,
};

type Kind = 'call' | 'watch';
interface ShapeTree {
  readonly [member: string]: Kind | ShapeTree;
}

/** Every relayed member of a port as a dotted path (`secure.submitMasked`) with its kind. */
function membersOf(shape: ShapeTree, prefix = ''): [string, Kind][] {
  return Object.entries(shape).flatMap(([name, kind]) => (typeof kind === 'string' ? [[prefix + name, kind] as [string, Kind]] : membersOf(kind, `${prefix}${name}.`)));
}
const relayedMembers = Object.fromEntries(Object.entries(relayedPorts).map(([name, shape]) => [name, new Map(membersOf(shape))])) as Record<PortName, Map<string, Kind>>;

export type PortName = keyof typeof relayedPorts;
type Ports = { federation: FederationApi; signalling: SignallingApi };

/** Worker → page. */
export type PortRequest =
  | { type: 'port-call'; port: PortName; id: number; method: string; args: unknown[] }
  | { type: 'port-watch'; port: PortName; watchId: number; method: string; args: unknown[] }
  | { type: 'port-unwatch'; port: PortName; watchId: number };

/** Page → worker. */
export type PortReply =
  | { type: 'port-result'; port: PortName; id: number; ok: true; value: unknown; stats: TransferStats }
  | { type: 'port-result'; port: PortName; id: number; ok: false; error: SerializedError; stats: TransferStats }
  | { type: 'port-event'; port: PortName; watchId: number; value: unknown; stats: TransferStats }
  | { type: 'port-watch-error'; port: PortName; watchId: number; error: SerializedError };

type Fn = (...args: unknown[]) => unknown;

/**
 * Worker side: a stand-in of port `name` whose members post {@link PortRequest}s; `handle` routes the
 * page's {@link PortReply}s back (it returns whether the message was one of this port's).
 */
export function relayPort<N extends PortName>(name: N, post: (message: PortRequest) => void): { port: Ports[N]; handle(message: { type: string }): boolean } {
  const stats: TransferStats = { bytesSent: 0, bytesReceived: 0 };
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const watchers = new Map<number, { listener: Fn; onError?: Fn }>();
  let ids = 0;
  const members: Record<string, unknown> = {
    stats,
    close() {
      for (const watchId of watchers.keys()) post({ type: 'port-unwatch', port: name, watchId });
      watchers.clear();
    },
  };
  for (const [method, kind] of relayedMembers[name]) {
    const relayed =
      kind === 'call'
        ? // Arguments cross by structured clone, typed arrays as typed arrays (a masked input stays a Uint32Array). They
          // are copied, not transferred: the clients retry a failed call with the same arguments, which a transfer
          // would have emptied; one copy of a model-sized array is a millisecond beside its upload.
          (...args: unknown[]) =>
            new Promise((resolve, reject) => {
              const id = ++ids;
              pending.set(id, { resolve, reject });
              post({ type: 'port-call', port: name, id, method, args });
            })
        : (...args: unknown[]) => {
            // `(…data, listener, onError?)`: the functions stay here, the data crosses.
            const at = args.findIndex((a) => typeof a === 'function');
            const watchId = ++ids;
            watchers.set(watchId, { listener: args[at] as Fn, onError: args[at + 1] as Fn | undefined });
            post({ type: 'port-watch', port: name, watchId, method, args: args.slice(0, at) });
            return () => {
              if (watchers.delete(watchId)) post({ type: 'port-unwatch', port: name, watchId });
            };
          };
    // `secure.submitMasked` lives at members.secure.submitMasked.
    const path = method.split('.');
    let holder = members;
    for (const key of path.slice(0, -1)) holder = (holder[key] ??= {}) as Record<string, unknown>;
    holder[path[path.length - 1]] = relayed;
  }

  function handle(message: { type: string }): boolean {
    const reply = message as PortReply;
    if (!reply.type.startsWith('port-') || reply.port !== name) return false;
    if ('stats' in reply) Object.assign(stats, reply.stats);
    switch (reply.type) {
      case 'port-result': {
        const call = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.ok) call?.resolve(reply.value);
        else call?.reject(deserializeError(reply.error));
        break;
      }
      case 'port-event':
        watchers.get(reply.watchId)?.listener(reply.value);
        break;
      case 'port-watch-error':
        watchers.get(reply.watchId)?.onError?.(deserializeError(reply.error));
        break;
    }
    return true;
  }

  // The members above are exactly the port's (relayedPorts is checked against its interface).
  return { port: members as unknown as Ports[N], handle };
}

/**
 * Page side: serves the worker's {@link PortRequest}s on the real ports, which `portOf` finds (the running
 * session's, or none). `closeAll` ends every subscription, e.g. when the worker stops.
 */
export function servePorts(portOf: (name: PortName) => Ports[PortName] | undefined, post: (reply: PortReply) => void): { handle(message: { type: string }): boolean; closeAll(): void } {
  const unwatch = new Map<string, () => void>();
  const statsOf = (name: PortName) => ({ ...(portOf(name)?.stats ?? { bytesSent: 0, bytesReceived: 0 }) });
  /** The page port's member at a relayed path, bound to its object; only the shape's members can be reached. */
  const member = (name: PortName, port: object, method: string, kind: Kind): Fn => {
    if (relayedMembers[name].get(method) !== kind) throw new Error(`the ${name} port has no ${kind} "${method}"`);
    const path = method.split('.');
    const holder = path.slice(0, -1).reduce<Record<string, unknown>>((object, key) => object[key] as Record<string, unknown>, port as Record<string, unknown>);
    return (holder[path[path.length - 1]] as Fn).bind(holder);
  };

  async function call(request: Extract<PortRequest, { type: 'port-call' }>): Promise<void> {
    const { port: name, id } = request;
    try {
      const port = portOf(name);
      if (!port) throw new Error(`no ${name} session is running`);
      const value = await member(name, port, request.method, 'call')(...request.args);
      post({ type: 'port-result', port: name, id, ok: true, value, stats: statsOf(name) });
    } catch (error) {
      post({ type: 'port-result', port: name, id, ok: false, error: serializeError(error), stats: statsOf(name) });
    }
  }

  function handle(message: { type: string }): boolean {
    const request = message as PortRequest;
    if (!request.type.startsWith('port-') || !(request.port in relayedPorts)) return false;
    const key = `${request.port}:${'watchId' in request ? request.watchId : ''}`;
    switch (request.type) {
      case 'port-call':
        void call(request);
        break;
      case 'port-watch': {
        const port = portOf(request.port);
        if (!port) break;
        const { port: name, watchId } = request;
        const failed = (error: unknown) => post({ type: 'port-watch-error', port: name, watchId, error: serializeError(error) });
        try {
          const stop = member(name, port, request.method, 'watch')(
            ...request.args,
            (value: unknown) => post({ type: 'port-event', port: name, watchId, value, stats: statsOf(name) }),
            failed,
          ) as () => void;
          unwatch.set(key, stop);
        } catch (error) {
          failed(error);
        }
        break;
      }
      case 'port-unwatch':
        unwatch.get(key)?.();
        unwatch.delete(key);
        break;
    }
    return true;
  }

  return {
    handle,
    closeAll() {
      for (const stop of unwatch.values()) stop();
      unwatch.clear();
    },
  };
}
