import { PeerNetwork, type PeerNetworkOptions } from '../peer/peer-network.js';
import type { PeerSignal } from '../peer/types.js';

/**
 * An in-memory signalling relay: every network created here reaches the others directly. For tests and
 * benchmarks of the transport alone, where a server would add nothing but noise. Signals are delivered
 * asynchronously, as a server would.
 */
export class LocalSignalling {
  readonly #networks = new Map<string, PeerNetwork>();
  /** Signals relayed so far. */
  signals = 0;
  /** When set, signals to these ids are dropped (simulates a peer that vanished). */
  readonly unreachable = new Set<string>();

  network(localId: string, options: Omit<PeerNetworkOptions, 'localId' | 'sendSignal'> = {}): PeerNetwork {
    const network = new PeerNetwork({
      ...options,
      localId,
      sendSignal: async (to: string, signal: PeerSignal) => {
        this.signals++;
        if (this.unreachable.has(to)) return;
        const target = this.#networks.get(to);
        if (!target) throw new Error(`no participant ${to}`);
        setTimeout(() => target.handleSignal(localId, structuredClone(signal)), 0);
      },
    });
    this.#networks.set(localId, network);
    return network;
  }
}
