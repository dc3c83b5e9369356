/**
 * Types shared by the peer transport, the signalling server and the decentralized client. They travel
 * as JSON through signalling (`@disco/api`'s peers router validates them), so they stay plain data.
 */

/** A STUN or TURN server, as `RTCIceServer`; handed to clients by `disco serve` (none by default). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** What simple-peer emits and accepts through `signal()`: an SDP offer/answer or an ICE candidate. */
export interface RtcSignalData {
  type: 'offer' | 'answer' | 'candidate' | 'renegotiate' | 'transceiverRequest';
  sdp?: string;
  candidate?: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null };
  renegotiate?: true;
  transceiverRequest?: { kind: string; init?: Record<string, unknown> };
}

/**
 * One signalling message between two peers.
 * - `hello`: the responder of a pair asks the initiator (the smaller id) to start, or restart, a connection.
 * - `rtc`: WebRTC negotiation for the connection attempt `connection` (a fresh id per attempt, so that late
 *   signals of an abandoned attempt are recognised and dropped).
 */
export type PeerSignal = { kind: 'hello' } | { kind: 'rtc'; connection: string; data: RtcSignalData };

/**
 * A WebRTC implementation for environments without one (Node). Browsers use their own; in Node
 * `@disco/core/node` provides {@link nodeWrtc} (node-datachannel).
 */
export interface WrtcImplementation {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

/** Bytes and messages through one connection or a whole network of them; framing headers included. */
export interface PeerStats {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
}

/** Sends a signal to another participant through the signalling server. */
export type SignalSender = (to: string, signal: PeerSignal) => Promise<void>;
