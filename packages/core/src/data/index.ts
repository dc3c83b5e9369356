// Data loading and preprocessing, isomorphic (browsers, workers, Node). Node-only loaders: ./node/index.ts.
export type { Dataset } from './dataset.js';
export * from './errors.js';
export * from './random.js';
export * from './operations.js';
export * from './tabular.js';
export * from './feature-shape.js';
export * from './pixels.js';
export * from './image.js';
export * from './image-decode-browser.js';
export * from './idx.js';
export * from './cifar.js';
export * from './labels-csv.js';
export * from './csv-preview.js';
export * from './tokenizer.js';
export * from './text.js';
export * from './gzip.js';
export * from './files.js';
export * from './browser-files.js';
