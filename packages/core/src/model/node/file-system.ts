import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { artifactsToFiles, filesToArtifacts, loadWithHandler, type LoadOptions, WEIGHTS_FILE } from '../artifacts.js';
import { ModelError } from '../errors.js';

/**
 * A TF.js IOHandler over `node:fs` (tfjs-node, which has one, does not install here): saves
 * `dir/model.json` + `dir/weights.bin`; loads `dir/model.json` and the weight files its manifest names.
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts) {
      const { modelJson, weightsBin } = artifactsToFiles(artifacts);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, WEIGHTS_FILE), weightsBin);
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load() {
      const jsonPath = path.join(dir, 'model.json');
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch (error) {
        throw new ModelError(`cannot read ${jsonPath}: ${(error as Error).message}`);
      }
      const paths = Array.isArray(modelJson?.weightsManifest) ? modelJson.weightsManifest.flatMap((group) => group.paths) : [];
      const parts = await Promise.all(paths.map((p) => readFile(path.resolve(dir, p))));
      return filesToArtifacts(modelJson, new Uint8Array(Buffer.concat(parts)));
    },
  };
}

/** Saves a model as a standard TF.js LayersModel: `dir/model.json` and `dir/weights.bin` (the folder is created). */
export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystemHandler(dir));
}

/** Loads the TF.js LayersModel saved in `dir`, checked against and compiled for `options.task` when given. */
export async function loadModelFromDir(dir: string, options: LoadOptions = {}): Promise<tf.LayersModel> {
  return loadWithHandler(fileSystemHandler(dir), options);
}
