export type { TrainingEvent, TrainingEventType, EpochMetrics } from './events.js';
export { Trainer, type TrainOptions } from './trainer.js';
export { yieldToEventLoop } from './yield.js';
