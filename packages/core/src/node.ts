// @disco/core/node: Node-only helpers (file system, Node WebRTC). Re-exports the isomorphic entry.
export * from './index.js';
export * from './data/node/index.js';
export * from './model/node/index.js';
export * from './peer/node/index.js';
