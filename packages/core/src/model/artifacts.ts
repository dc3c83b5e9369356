import * as tf from '@tensorflow/tfjs';
import type { Task } from '../task/schema.js';
import { compileForTask } from './build.js';
import { checkModelForTask } from './check.js';
import { ModelError } from './errors.js';
import { registerGptLayer } from './gpt/layer.js';

/** The name of the weights file next to `model.json` in a saved model. */
export const WEIGHTS_FILE = 'weights.bin';

/** A standard TF.js LayersModel as its two files: `model.json` (parsed) and `weights.bin`. */
export interface ModelFiles {
  modelJson: tf.io.ModelJSON;
  weightsBin: Uint8Array;
}

export interface LoadOptions {
  /** When given, the loaded model is checked against the task ({@link checkModelForTask}) and compiled for it. */
  task?: Task;
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/**
 * A GPT's training config names its loss function, which TF.js cannot look up by name when loading
 * (it would throw "Unknown loss"): such a config is left out, and the model is compiled on loading
 * (`compileForTask`) or by the Trainer, as any uncompiled model is.
 */
function portableTrainingConfig(config: tf.io.TrainingConfig | undefined): tf.io.TrainingConfig | undefined {
  return config && JSON.stringify(config.loss).includes('language_model_loss') ? undefined : config;
}

/** Artifacts as produced by `model.save` → the two files, with every weight in one `weights.bin`. */
export function artifactsToFiles(artifacts: tf.io.ModelArtifacts): ModelFiles {
  const trainingConfig = portableTrainingConfig(artifacts.trainingConfig);
  if (!artifacts.modelTopology || artifacts.modelTopology instanceof ArrayBuffer)
    throw new ModelError('only models with a JSON topology (TF.js LayersModel) can be saved');
  const weightData = artifacts.weightData ?? new ArrayBuffer(0);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
    ...(trainingConfig ? { trainingConfig } : {}),
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  return { modelJson, weightsBin: new Uint8Array(tf.io.CompositeArrayBuffer.join(weightData)) };
}

/**
 * The two files → artifacts for `tf.loadLayersModel`, after checking that `model.json` is a LayersModel
 * and that the weights hold exactly the bytes its manifest describes. `weightData` is every file of the
 * manifest, concatenated in manifest order.
 */
export function filesToArtifacts(modelJson: unknown, weightData: Uint8Array): tf.io.ModelArtifacts {
  const json = modelJson as Partial<tf.io.ModelJSON> | null;
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest))
    throw new ModelError('model.json is not a TF.js LayersModel: it needs "modelTopology" and "weightsManifest"');
  if (json.format !== undefined && json.format !== 'layers-model')
    throw new ModelError(`model.json is a "${json.format}" model; only TF.js LayersModels ("layers-model") are supported`);
  const specs = tf.io.getWeightSpecs(json.weightsManifest);
  const expected = specs.reduce(
    (sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * BYTES_PER_DTYPE[spec.quantization?.dtype ?? spec.dtype],
    0,
  );
  if (weightData.byteLength !== expected)
    throw new ModelError(`the weights hold ${weightData.byteLength} bytes but model.json describes ${expected}`);
  const artifacts = tf.io.getModelArtifactsForJSONSync(json as tf.io.ModelJSON, specs, weightData.slice().buffer);
  return { ...artifacts, trainingConfig: portableTrainingConfig(artifacts.trainingConfig) };
}

/**
 * Serialises a model to the two files of a standard TF.js LayersModel (no optimizer state), in memory:
 * the same bytes in the browser and in Node.
 */
export async function modelToArtifacts(model: tf.LayersModel): Promise<ModelFiles> {
  let files: ModelFiles | undefined;
  await model.save(
    // eslint-disable-next-line @typescript-eslint/require-await -- TF.js's save handler must return a promise
    tf.io.withSaveHandler(async (artifacts) => {
      files = artifactsToFiles(artifacts);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!files) throw new ModelError('the model produced no artifacts');
  return files;
}

/** Loads through any IOHandler, then checks and compiles as {@link LoadOptions} asks. Shared by the loaders. */
export async function loadWithHandler(handler: tf.io.IOHandler, options: LoadOptions = {}): Promise<tf.LayersModel> {
  registerGptLayer();
  const model = await tf.loadLayersModel(handler);
  if (options.task) {
    try {
      checkModelForTask(model, options.task);
    } catch (error) {
      model.dispose();
      throw error;
    }
    compileForTask(model, options.task);
  }
  return model;
}

/** Loads a model from its two files, e.g. as downloaded from the server or saved by {@link modelToArtifacts}. */
export async function modelFromArtifacts(modelJson: unknown, weightsBin: Uint8Array, options: LoadOptions = {}): Promise<tf.LayersModel> {
  const artifacts = filesToArtifacts(modelJson, weightsBin);
  return loadWithHandler(tf.io.fromMemory(artifacts), options);
}

/**
 * Browser: loads a model from files the user picked (`model.json` and its weight files), e.g. from an
 * `<input type="file" multiple>`.
 */
export async function loadModelFromFiles(jsonFile: File, weightFiles: File[], options: LoadOptions = {}): Promise<tf.LayersModel> {
  return loadWithHandler(tf.io.browserFiles([jsonFile, ...weightFiles]), options);
}
