import * as polyfill from 'node-datachannel/polyfill';
import type { WrtcImplementation } from '../types.js';

type Description = { type: string; sdp: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's constructor must take any[]
type PeerConnectionClass = new (...args: any[]) => {
  createOffer(options?: unknown): Promise<Description>;
  createAnswer(options?: unknown): Promise<Description>;
};

/**
 * node-datachannel returns read-only session descriptions, but simple-peer 9 assigns `offer.sdp`
 * (its `sdpTransform`); hand it plain objects instead.
 */
function plainSdp<T extends PeerConnectionClass>(Base: T): T {
  return class extends Base {
    override async createOffer(options?: unknown): Promise<Description> {
      const d = await super.createOffer(options);
      return { type: d.type, sdp: d.sdp };
    }
    override async createAnswer(options?: unknown): Promise<Description> {
      const d = await super.createAnswer(options);
      return { type: d.type, sdp: d.sdp };
    }
  };
}

let cached: WrtcImplementation | undefined;

/**
 * The WebRTC implementation for Node (node-datachannel's W3C polyfill, prebuilt binaries, no build),
 * to pass as `wrtc` to the peer transport. Browsers need none.
 *
 * @example
 * ```ts
 * import { nodeWrtc, PeerNetwork } from '@disco/core/node';
 * const network = new PeerNetwork({ localId, sendSignal, wrtc: nodeWrtc() });
 * ```
 */
export function nodeWrtc(): WrtcImplementation {
  cached ??= {
    RTCPeerConnection: plainSdp(polyfill.RTCPeerConnection as unknown as PeerConnectionClass),
    RTCSessionDescription: polyfill.RTCSessionDescription,
    RTCIceCandidate: polyfill.RTCIceCandidate,
  };
  return cached;
}
