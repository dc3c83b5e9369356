// The peer-to-peer transport of decentralized learning: WebRTC data channels over simple-peer, binary
// messages of any size framed and checked, connections with timeouts and retries. Browser and Node alike;
// Node passes a WebRTC implementation (`nodeWrtc()` from `@disco/core/node`).
export { PeerConnection, PeerConnectionError } from './peer-connection.js';
export type { PeerConnectionOptions, PeerConnectionEvents, PeerConnectionState } from './peer-connection.js';
export { PeerNetwork } from './peer-network.js';
export type { PeerNetworkOptions, PeerNetworkEvents, ConnectResult } from './peer-network.js';
export { encodeFrames, Reassembler, FramingError, goodbyeFrame, isGoodbye, MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from './framing.js';
export { Emitter } from './emitter.js';
export { peerGroups, roundGroups, ALL_TO_ALL_MAX, MAX_SECURE_MEMBERS, type PeerGroups, type TopologyName } from './topology.js';
export type { PeerRoundInfo, PeerServerEvent, PeerJoinResult, SignallingApi } from './signalling-api.js';
export type { IceServer, PeerSignal, PeerStats, RtcSignalData, SignalSender, WrtcImplementation } from './types.js';
export {
  SecurePeerRound,
  SECURE_KIND,
  encodeSecureMessage,
  decodeSecureMessage,
  isSecureMessage,
  secureMessageRound,
  type SecureMessage,
  type SecureMessageKind,
  type SecurePeerOutcome,
  type SecurePeerRoundOptions,
  type SecurePeerTransport,
  type SecureStepDeadlines,
} from './secure-round.js';
