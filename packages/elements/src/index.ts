// @disco/elements: importing this module registers every element (<disco-task-list>, <disco-task>,
// <disco-train>, <disco-evaluate>, <disco-task-form>, <disco-model-library>) and exports their classes,
// the API adapters, the model library and the page-wide configuration.
export { DiscoTaskList } from './task-list/task-list.js';
export { DiscoTask } from './task/task.js';
export { DiscoTrain } from './train/train.js';
export { DiscoEvaluate } from './evaluate/evaluate.js';
export { DiscoTaskForm } from './task-form/task-form.js';
export { DiscoModelLibrary } from './model-library/model-library.js';

export { DiscoElement } from './base/disco-element.js';
export { configure, getConfig, type DiscoConfig } from './config.js';
export type { DiscoEvent, DiscoEventDetails, DiscoEventMap, DiscoEventName, DiscoErrorCode, FinalMetrics, TrainEnd } from './events.js';

export { DiscoApiError, type ApiErrorCode } from '@disco/core';
export type { DiscoApi, ModelUpload, ModelVersionInfo, RoundInfo, ServerCapabilities, TaskSummary } from './api/disco-api.js';
export { FakeDiscoApi, type FakeDiscoApiOptions } from './api/fake-api.js';
export { createRemoteApi, remoteApiFor } from './api/remote-api.js';

export { ModelStore, defaultModelStore, downloadModelFiles, type StoredModel, type StoredModelFiles, type StoredModelInfo } from './library/model-store.js';
export { describePrivacy, describeSpent, type EnforcedSetting, type PrivacyStatement } from './task/privacy-statement.js';
export { applyPreset, privacyPresets, type PrivacyPreset } from './task-form/privacy-presets.js';
export { renderMarkdown } from './markdown.js';
export type { TrainingPhase } from './train/training-controller.js';
