// @disco/core/testing: the one set of in-memory fakes (the server's ports, and a signalling relay for the
// transport alone), for tests, stories, demos and benchmarks.
// They behave like the server (its round rule, strategies, update checks and error codes), so that a client
// tested against them meets no surprise against the real one.
export { InMemoryFederation, type InMemoryFederationOptions } from './in-memory-federation.js';
export { InMemorySignalling, type InMemorySignallingOptions } from './in-memory-signalling.js';
export { closedRound } from './rounds.js';
export { LocalSignalling } from './local-signalling.js';
