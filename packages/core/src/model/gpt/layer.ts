import * as tf from '@tensorflow/tfjs';
import type { GptShape } from './sizes.js';

/** Everything that fixes a GPT's weights and computation; serialised with the model (`model.json`). */
export interface GptConfig extends GptShape {
  /** Tokens read at once: the length of the position embedding. */
  contextLength: number;
  /** Token ids the model reads and scores (50,257 for GPT-2's tokenizer). */
  vocabulary: number;
  /** Dropout rate while training (attention weights, residual branches, embeddings); none at inference. */
  dropout: number;
  /** Seed of the initial weights: the same seed gives the same version-0 weights everywhere. */
  seed: number;
}

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** The weights of one transformer block, named as in GPT-2's checkpoints. */
interface BlockWeights<T> {
  ln1Gamma: T;
  ln1Beta: T;
  qkvKernel: T;
  qkvBias: T;
  projKernel: T;
  projBias: T;
  ln2Gamma: T;
  ln2Beta: T;
  fcKernel: T;
  fcBias: T;
  fcProjKernel: T;
  fcProjBias: T;
}

/** The weights of a whole GPT as tensors (the layer's variables, read without copying). */
export interface GptWeights {
  tokenEmbedding: tf.Tensor2D;
  positionEmbedding: tf.Tensor2D;
  blocks: BlockWeights<tf.Tensor>[];
  lnFGamma: tf.Tensor;
  lnFBeta: tf.Tensor;
}

/** Keys and values of the positions already read, per block: `[batch, heads, positions, head width]`. */
export interface LayerCache {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
}

const LN_EPSILON = 1e-5;
const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * Embedding lookup whose gradient is a scatter-add (`scatterND` sums repeated ids), because tfjs-backend-wasm
 * has no `UnsortedSegmentSum`, the kernel of `gather`'s own gradient; a one-hot product instead would cost
 * tokens × 50,257 floats.
 */
function gatherRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor;
    // Kept by the tape for the backward pass (the caller's tensor is gone by then).
    (args[1] as tf.GradSaveFunc)([ids]);
    return {
    value: tf.gather(t, ids),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.scatterND(tf.expandDims(saved[0], 1), dy as tf.Tensor, t.shape),
    };
  });
  return lookup(table) as tf.Tensor2D;
}

/** `x · kernel + bias` over the last axis of a `[batch, T, in]` tensor. */
function dense(x: tf.Tensor3D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor3D {
  const [batch, length, width] = x.shape;
  const y = tf.fused.matMul({ a: tf.reshape(x, [batch * length, width]), b: kernel, bias });
  return tf.reshape(y, [batch, length, kernel.shape[1]!]);
}

function layerNorm(x: tf.Tensor3D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor3D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPSILON))), gamma), beta);
}

/** GPT-2's GELU (the tanh approximation). */
function gelu(x: tf.Tensor3D): tf.Tensor3D {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/**
 * Additive causal mask for `queries` new positions reading `keys` positions (the queries are the last
 * ones): 0 where a query may look, −1e9 on later positions.
 */
function causalMask(queries: number, keys: number): tf.Tensor2D {
  const offset = keys - queries;
  const mask = new Float32Array(queries * keys);
  for (let i = 0; i < queries; i++) for (let j = offset + i + 1; j < keys; j++) mask[i * keys + j] = -1e9;
  return tf.tensor2d(mask, [queries, keys]);
}

function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [batch, length, width] = x.shape;
  return tf.transpose(tf.reshape(x, [batch, length, heads, width / heads]), [0, 2, 1, 3]);
}

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Dropout rate; applied only when `training`. */
  dropout?: number;
  training?: boolean;
  /** Keys and values of earlier positions, per block: the new tokens come after them. */
  past?: LayerCache[];
  /** Only the last position's logits (generation): skips the output head on the others. */
  lastOnly?: boolean;
}

/** Result of {@link gptForward}: logits and, per block, the keys and values of every position read so far. */
export interface ForwardResult {
  /** `[batch, T, vocabulary]`, or `[batch, 1, vocabulary]` with `lastOnly`. */
  logits: tf.Tensor3D;
  cache: LayerCache[];
}

/**
 * The GPT computation, shared by training (the layer's `call`) and generation (with a key/value cache):
 * token + position embeddings, pre-LayerNorm blocks of causal self-attention and a 4× GELU MLP, a final
 * layer norm and the output head, tied to the token embedding (logits = h · Eᵀ).
 *
 * @param ids int32 token ids `[batch, T]`; with `past`, positions continue after the cached ones.
 */
export function gptForward(weights: GptWeights, heads: number, ids: tf.Tensor2D, options: ForwardOptions = {}): ForwardResult {
  const { dropout = 0, training = false, past, lastOnly = false } = options;
  const drop = <T extends tf.Tensor>(x: T): T => (training && dropout > 0 ? (tf.dropout(x, dropout) as T) : x);
  const [batch, length] = ids.shape;
  const width = weights.tokenEmbedding.shape[1];
  const start = past ? past[0].keys.shape[2] : 0;
  const tokens = tf.reshape(gatherRows(weights.tokenEmbedding, tf.reshape(ids, [-1])), [batch, length, width]);
  const positions = tf.slice(weights.positionEmbedding, [start, 0], [length, width]);
  let x = drop(tf.add<tf.Tensor3D>(tokens, positions));
  const mask = length > 1 ? causalMask(length, start + length) : undefined;
  const scale = 1 / Math.sqrt(width / heads);
  const cache: LayerCache[] = [];
  weights.blocks.forEach((w, i) => {
    const h = layerNorm(x, w.ln1Gamma, w.ln1Beta);
    const [q, k, v] = tf.split(dense(h, w.qkvKernel, w.qkvBias), 3, 2).map((t) => splitHeads(t as tf.Tensor3D, heads));
    const keys = past ? tf.concat([past[i].keys, k], 2) : k;
    const values = past ? tf.concat([past[i].values, v], 2) : v;
    cache.push({ keys, values });
    let scores = tf.mul(tf.matMul(q, keys, false, true), scale);
    if (mask) scores = tf.add(scores, mask);
    const attention = drop(tf.softmax(scores));
    const merged = tf.reshape<tf.Rank.R3>(tf.transpose(tf.matMul(attention, values), [0, 2, 1, 3]), [batch, length, width]);
    x = tf.add<tf.Tensor3D>(x, drop(dense(merged, w.projKernel, w.projBias)));
    const h2 = layerNorm(x, w.ln2Gamma, w.ln2Beta);
    x = tf.add<tf.Tensor3D>(x, drop(dense(gelu(dense(h2, w.fcKernel, w.fcBias)), w.fcProjKernel, w.fcProjBias)));
  });
  const last = lastOnly ? tf.slice(x, [0, length - 1, 0], [batch, 1, width]) : x;
  const out = layerNorm(last, weights.lnFGamma, weights.lnFBeta);
  const rows = out.shape[1];
  const logits = tf.matMul(tf.reshape(out, [batch * rows, width]), weights.tokenEmbedding, false, true);
  return { logits: tf.reshape(logits, [batch, rows, weights.tokenEmbedding.shape[0]]), cache };
}

/** A seed per weight, derived from the model's seed and the weight's rank, so no two weights start alike. */
function weightSeed(seed: number, rank: number): number {
  return (seed ^ Math.imul(rank + 1, 0x9e3779b1)) >>> 0;
}

/**
 * A decoder-only transformer (GPT-2's architecture) as one TF.js layer holding every weight, so that a
 * GPT is an ordinary `LayersModel`: flat weights, the codec, quantization, secure aggregation, DP,
 * `model.fit` and `model.json` apply unchanged. Registered with TF.js's serialisation as `DiscoGpt`, so
 * `tf.loadLayersModel` reads a saved one back (in Node and the browser).
 *
 * Input: token ids `[batch, T]` (T ≤ contextLength), as float32 (the Trainer's features) or int32.
 * Output: logits `[batch, T, vocabulary]`. The output head is tied to the token embedding (GPT-2's
 * choice: 50,257 × C fewer weights to train and exchange).
 *
 * Initialisation (GPT-2's): normal(0, 0.02) for the embeddings and kernels, the residual projections
 * scaled by 1/√(2·layers), zero biases, layer norms at (1, 0); each weight seeded from `seed`.
 */
export class GptLayer extends tf.layers.Layer {
  static className = 'DiscoGpt';
  readonly gpt: GptConfig;
  private parts?: { tokenEmbedding: tf.LayerVariable; positionEmbedding: tf.LayerVariable; blocks: BlockWeights<tf.LayerVariable>[]; lnFGamma: tf.LayerVariable; lnFBeta: tf.LayerVariable };

  constructor(args: GptConfig & LayerArgs) {
    super(args);
    const { layers, heads, embedding, contextLength, vocabulary, dropout, seed } = args;
    if (embedding % heads !== 0) throw new Error(`the embedding width (${embedding}) must be a multiple of the heads (${heads})`);
    this.gpt = { layers, heads, embedding, contextLength, vocabulary, dropout, seed };
  }

  override build(): void {
    const { layers, embedding: c, contextLength, vocabulary, seed } = this.gpt;
    let rank = 0;
    const normal = (name: string, shape: number[], stddev: number) =>
      this.addWeight(name, shape, 'float32', tf.initializers.randomNormal({ mean: 0, stddev, seed: weightSeed(seed, rank++) }));
    const constant = (name: string, shape: number[], value: 0 | 1) => {
      rank++;
      return this.addWeight(name, shape, 'float32', value === 0 ? tf.initializers.zeros() : tf.initializers.ones());
    };
    const residual = 0.02 / Math.sqrt(2 * layers);
    const tokenEmbedding = normal('wte', [vocabulary, c], 0.02);
    const positionEmbedding = normal('wpe', [contextLength, c], 0.02);
    const blocks = Array.from({ length: layers }, (_, i) => ({
      ln1Gamma: constant(`h${i}/ln_1/gamma`, [c], 1),
      ln1Beta: constant(`h${i}/ln_1/beta`, [c], 0),
      qkvKernel: normal(`h${i}/attn/c_attn/kernel`, [c, 3 * c], 0.02),
      qkvBias: constant(`h${i}/attn/c_attn/bias`, [3 * c], 0),
      projKernel: normal(`h${i}/attn/c_proj/kernel`, [c, c], residual),
      projBias: constant(`h${i}/attn/c_proj/bias`, [c], 0),
      ln2Gamma: constant(`h${i}/ln_2/gamma`, [c], 1),
      ln2Beta: constant(`h${i}/ln_2/beta`, [c], 0),
      fcKernel: normal(`h${i}/mlp/c_fc/kernel`, [c, 4 * c], 0.02),
      fcBias: constant(`h${i}/mlp/c_fc/bias`, [4 * c], 0),
      fcProjKernel: normal(`h${i}/mlp/c_proj/kernel`, [4 * c, c], residual),
      fcProjBias: constant(`h${i}/mlp/c_proj/bias`, [c], 0),
    }));
    const lnFGamma = constant('ln_f/gamma', [c], 1);
    const lnFBeta = constant('ln_f/beta', [c], 0);
    this.parts = { tokenEmbedding, positionEmbedding, blocks, lnFGamma, lnFBeta };
    this.built = true;
  }

  /** The current weights as tensors (the variables themselves: valid until the model is disposed). */
  weightTensors(): GptWeights {
    if (!this.parts) throw new Error('the GPT layer is not built yet');
    const read = (v: tf.LayerVariable) => v.read();
    const { tokenEmbedding, positionEmbedding, blocks, lnFGamma, lnFBeta } = this.parts;
    return {
      tokenEmbedding: read(tokenEmbedding) as tf.Tensor2D,
      positionEmbedding: read(positionEmbedding) as tf.Tensor2D,
      blocks: blocks.map((b) => Object.fromEntries(Object.entries(b).map(([k, v]: [string, tf.LayerVariable]) => [k, read(v)])) as unknown as BlockWeights<tf.Tensor>),
      lnFGamma: read(lnFGamma),
      lnFBeta: read(lnFBeta),
    };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], shape[1], this.gpt.vocabulary];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const input = Array.isArray(inputs) ? inputs[0] : inputs;
      const ids = (input.dtype === 'int32' ? input : tf.cast(input, 'int32')) as tf.Tensor2D;
      if (ids.shape[1] > this.gpt.contextLength)
        throw new Error(`the GPT reads at most ${this.gpt.contextLength} tokens at once, got ${ids.shape[1]}`);
      return gptForward(this.weightTensors(), this.gpt.heads, ids, { training: kwargs.training ?? false, dropout: this.gpt.dropout }).logits;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.gpt };
  }
}

let registered = false;

/**
 * Registers {@link GptLayer} with TF.js's serialisation (idempotent). Called by everything that builds or
 * loads models here, since the package is side-effect free; call it before `tf.loadLayersModel` of a
 * saved GPT elsewhere.
 */
export function registerGptLayer(): void {
  if (registered) return;
  tf.serialization.registerClass(GptLayer);
  registered = true;
}

/** The GPT layer of `model`, if it is a GPT (by class name too: a bundle may hold two copies of this module). */
export function findGptLayer(model: tf.LayersModel): GptLayer | undefined {
  return model.layers.find((layer): layer is GptLayer => layer instanceof GptLayer || layer.getClassName() === GptLayer.className);
}

/**
 * A GPT as a LayersModel: input `tokens` `[null, contextLength]`, output logits
 * `[null, contextLength, vocabulary]`. Not compiled (see `compileModel`).
 */
export function createGptModel(config: GptConfig): tf.LayersModel {
  registerGptLayer();
  const input = tf.input({ shape: [config.contextLength], name: 'tokens' });
  const output = new GptLayer({ ...config, name: 'transformer' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'gpt' });
}
