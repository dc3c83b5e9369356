// Data loading and preprocessing, isomorphic (browsers, workers, Node). Node-only loaders: ./node/index.ts.
export type { Dataset } from './dataset.js';
export * from './errors.js';
export * from './random.js';
export * from './operations.js';
export * from './tabular.js';
export * from './pixels.js';
export * from './idx.js';
