export { ModelError } from './errors.js';
export { featureShape, featureWidth, taskClasses } from './feature-shape.js';
export { buildModel, compileForTask, optimizerForTask, DEFAULT_HIDDEN_UNITS } from './build.js';
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
