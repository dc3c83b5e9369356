// @disco/core: runs unchanged in browsers and in Node. Nothing here may import `node:*`;
// Node-only helpers live behind the `@disco/core/node` entry (src/node.ts).
export * from './task/schema.js';
export { taskCreationIssues, unenforcedSettings } from './task/enforced.js';
export * from './weights/index.js';
export type { Dataset } from './data/dataset.js';
export type { TrainingEvent, TrainingEventType, EpochMetrics, DoneEvent, FinalMetrics, SessionStats } from './training/events.js';
export * from './backend/index.js';
export * from './aggregation/index.js';
export * from './data/index.js';
export * from './task/builtin/index.js';
export * from './model/index.js';
export * from './client/index.js';
export * from './training/index.js';
export * from './evaluation/index.js';
export * from './peer/index.js';
export * from './privacy/index.js';
export * from './secure/index.js';
export * from './attacks/index.js';
