import { firstNonFinite, totalSize, type FlatWeights, type Task, type WeightShape } from '@disco/core';

/**
 * What the server needs from TF.js, behind one small interface: the model of a task (its topology and
 * seeded initial weights) and the loading of an uploaded model. The default implementation loads
 * `@disco/core`'s model functions (and TF.js) on first use only; tests may inject a fake to stay fast.
 * Aggregation and downloads never need TF.js: the server works on flat weights.
 */
export interface InitialModel {
  /** `model.json` without its `weightsManifest` (format, modelTopology, ...), served back to TF.js clients. */
  topology: Record<string, unknown>;
  /** Version 0 of the global model: identical for every client. */
  weights: FlatWeights;
}

export interface ModelToolkit {
  /** Builds the task's model with its seed (built-in architectures). */
  build(task: Task): Promise<InitialModel>;
  /**
   * Loads an uploaded model (already through {@link parseUploadedModel}'s structural checks) and checks it
   * against the task (input and output shapes). Returns its weights in the model's own order (what clients
   * get from `getFlatWeights`), or every problem found.
   */
  loadUpload(task: Task, modelJson: Record<string, unknown>, weightsBin: Uint8Array): Promise<{ ok: true; model: InitialModel } | { ok: false; errors: string[] }>;
}

type CoreModule = typeof import('@disco/core');
let corePromise: Promise<CoreModule> | undefined;
/** `@disco/core`'s model functions pull TF.js in: loaded on first use only, with the backend initialised once. */
function loadCore(): Promise<CoreModule> {
  corePromise ??= import('@disco/core').then(async (core) => {
    await core.initBackend();
    return core;
  });
  return corePromise;
}

function topologyOf(modelJson: Record<string, unknown>): Record<string, unknown> {
  const { weightsManifest: _manifest, ...topology } = modelJson;
  return topology;
}

/** The default toolkit, backed by `@disco/core`'s `buildModel`, `getFlatWeights`, `modelToArtifacts`, `modelFromArtifacts`. */
export const coreModelToolkit: ModelToolkit = {
  async build(task) {
    const core = await loadCore();
    const model = core.buildModel(task);
    try {
      const weights = core.getFlatWeights(model);
      const files = await core.modelToArtifacts(model);
      return { topology: topologyOf(files.modelJson as unknown as Record<string, unknown>), weights };
    } finally {
      model.dispose();
    }
  },
  async loadUpload(task, modelJson, weightsBin) {
    const core = await loadCore();
    let model;
    try {
      model = await core.modelFromArtifacts(modelJson, weightsBin, { task });
    } catch (error) {
      return { ok: false, errors: [(error as Error).message] };
    }
    try {
      return { ok: true, model: { topology: topologyOf(modelJson), weights: core.getFlatWeights(model) } };
    } finally {
      model.dispose();
    }
  },
};

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype?: string;
}

/**
 * Structural checks of an uploaded TF.js model (`model.json` + one `weights.bin` holding every weight
 * group in manifest order): a layers-model topology, a float32 weights manifest, the exact byte length,
 * finite values. Returns every problem at once, or the flat weights and the topology.
 */
export function parseUploadedModel(
  modelJson: unknown,
  weightsBin: Uint8Array,
): { ok: true; modelJson: Record<string, unknown>; model: InitialModel } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  if (typeof modelJson !== 'object' || modelJson === null || Array.isArray(modelJson))
    return { ok: false, errors: ['model.json: must be a JSON object (a TF.js LayersModel)'] };
  const json = modelJson as Record<string, unknown>;
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null)
    errors.push('model.json: modelTopology is missing (only TF.js layers models are supported)');
  if (json.format !== undefined && json.format !== 'layers-model') errors.push(`model.json: format is ${JSON.stringify(json.format)}, expected "layers-model"`);
  const manifest = json.weightsManifest;
  const shapes: WeightShape[] = [];
  if (!Array.isArray(manifest) || manifest.length === 0) errors.push('model.json: weightsManifest is missing or empty');
  else
    manifest.forEach((group: unknown, g) => {
      const weights = (group as { weights?: unknown } | null)?.weights;
      if (!Array.isArray(weights)) return void errors.push(`model.json: weightsManifest[${g}].weights must be an array`);
      weights.forEach((w: unknown, i) => {
        const entry = w as Partial<ManifestEntry> | null;
        const where = `model.json: weightsManifest[${g}].weights[${i}]`;
        if (!entry || typeof entry.name !== 'string') return void errors.push(`${where}: name is missing`);
        if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0))
          return void errors.push(`${where} (${entry.name}): shape must be a list of whole numbers`);
        if ((entry.dtype ?? 'float32') !== 'float32')
          return void errors.push(`${where} (${entry.name}): dtype ${entry.dtype} is not supported (float32 only)`);
        if ((entry as { quantization?: unknown }).quantization)
          return void errors.push(`${where} (${entry.name}): quantized weights are not supported`);
        shapes.push({ name: entry.name, shape: [...entry.shape] });
      });
    });
  if (errors.length) return { ok: false, errors };
  const expectedBytes = totalSize(shapes) * 4;
  if (weightsBin.byteLength !== expectedBytes)
    return { ok: false, errors: [`weights.bin: is ${weightsBin.byteLength} bytes, the manifest describes ${expectedBytes} (${totalSize(shapes)} float32 values)`] };
  const values = new Float32Array(weightsBin.slice().buffer);
  const bad = firstNonFinite(values);
  if (bad >= 0) return { ok: false, errors: [`weights.bin: value ${bad} is not finite (${values[bad]})`] };
  return { ok: true, modelJson: json, model: { topology: topologyOf(json), weights: { values, shapes } } };
}
