// Node-only part of the peer transport: reachable from `@disco/core/node` only.
export { nodeWrtc } from './wrtc.js';
