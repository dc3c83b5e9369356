// @disco/core/testing: the one set of in-memory fakes of the server's ports, for tests, stories and demos.
// They behave like the server (its round rule, strategies, update checks and error codes), so that a client
// tested against them meets no surprise against the real one.
export { InMemoryFederation, type InMemoryFederationOptions } from './in-memory-federation.js';
export { InMemorySignalling, type InMemorySignallingOptions } from './in-memory-signalling.js';
export { closedRound } from './rounds.js';
