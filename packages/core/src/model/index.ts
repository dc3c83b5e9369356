export { ModelError } from './errors.js';
export { taskClasses } from './classes.js';
export { buildModel, compileForTask, compileModel, createOptimizer, DEFAULT_HIDDEN_UNITS, taskContextLength } from './build.js';
export * from './gpt/index.js';
export { checkModelForTask } from './check.js';
export { getFlatWeights, setFlatWeights, weightShapes } from './flat-weights.js';
export {
  artifactsToFiles,
  filesToArtifacts,
  loadModelFromFiles,
  modelFromArtifacts,
  modelToArtifacts,
  WEIGHTS_FILE,
  type LoadOptions,
  type ModelFiles,
} from './artifacts.js';
