export type { TrainingEvent, TrainingEventType, EpochMetrics, DoneEvent, FinalMetrics, SessionStats } from './events.js';
export { Trainer, type TrainOptions } from './trainer.js';
export { yieldToEventLoop } from './yield.js';
