import * as tf from '@tensorflow/tfjs';
import { mulberry32, type Random } from '../../data/random.js';
import { yieldToEventLoop } from '../../training/yield.js';
import { ModelError } from '../errors.js';
import { findGptLayer, gptForward, type GptLayer, type LayerCache } from './layer.js';

/** Options of {@link generateTokens}. */
export interface GenerateOptions {
  /** Tokens to generate (the stream may end earlier when `signal` aborts). */
  maxTokens: number;
  /** Softmax temperature; 0 or absent: greedy (the most likely token, the lowest id on ties). */
  temperature?: number;
  /** Sample among the k most likely tokens only (with a temperature). */
  topK?: number;
  /** Seed of the sampling: the same seed, model and prompt give the same tokens. Absent: a random seed. */
  seed?: number;
  /**
   * Keep the keys and values of the positions already read (default true), so each new token costs one
   * step of one position; false re-runs the whole window for every token (same tokens, slower).
   */
  cache?: boolean;
  /** Aborting ends the stream after the token being computed. */
  signal?: AbortSignal;
}

/**
 * Where the model's window starts for a sequence of `length` tokens, given where it started before.
 * While the sequence fits the context, the window is all of it. When it outgrows the context, the oldest
 * tokens are dropped so that the last ⌈T/2⌉ remain (a prompt longer than the context is first cut to its
 * last T tokens): a cached generation then re-reads ⌈T/2⌉ tokens once every ⌊T/2⌋ + 1 tokens, instead of
 * the whole context for every token past it, and both modes read the same windows, so they agree.
 */
export function windowStart(length: number, previousStart: number, contextLength: number): number {
  if (length - previousStart <= contextLength) return previousStart;
  return length - Math.ceil(contextLength / 2);
}

/**
 * The next token from the last position's logits: the arg-max when `temperature` is 0 or absent; else a
 * draw from softmax(logits / temperature), restricted to the `topK` largest logits when given.
 */
export function pickToken(logits: Float32Array, random: Random, temperature = 0, topK?: number): number {
  if (!temperature) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const threshold = topK && topK < logits.length ? Float32Array.from(logits).sort()[logits.length - topK] : -Infinity;
  let max = -Infinity;
  for (const v of logits) if (v >= threshold && v > max) max = v;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] < threshold) continue;
    weights[i] = Math.exp((logits[i] - max) / temperature);
    total += weights[i];
  }
  let u = random() * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] === 0) continue;
    last = i;
    u -= weights[i];
    if (u < 0) return i;
  }
  return last;
}

function checkOptions(layer: GptLayer, prompt: readonly number[], options: GenerateOptions): void {
  const { vocabulary } = layer.gpt;
  if (prompt.length === 0) throw new ModelError('the prompt is empty: give at least one token');
  const bad = prompt.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabulary);
  if (bad !== undefined) throw new ModelError(`token id ${bad} is not in the vocabulary [0, ${vocabulary})`);
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 0) throw new ModelError(`maxTokens must be a whole number ≥ 0, got ${options.maxTokens}`);
  if (options.temperature !== undefined && !(options.temperature >= 0)) throw new ModelError(`temperature must be ≥ 0, got ${options.temperature}`);
  if (options.topK !== undefined && !(Number.isInteger(options.topK) && options.topK >= 1)) throw new ModelError(`topK must be a whole number ≥ 1, got ${options.topK}`);
}

/**
 * Generates tokens after `prompt` with a GPT (built by `buildModel` for a text task, or loaded), one at a
 * time, as a stream: greedy, or sampled with a temperature and top-k from a seeded generator.
 *
 * With the cache (default), the prompt is read once and each new token costs one step of one position
 * (the keys and values of earlier positions are kept per block); without it, every token re-runs the
 * window. Past the context length the window slides (see {@link windowStart}). The event loop gets a turn
 * between tokens, so a page stays responsive; every tensor is disposed, also when the consumer stops early.
 *
 * @throws ModelError for a model that is not a GPT, an empty prompt, ids outside the vocabulary, bad options.
 * @example
 * ```ts
 * for await (const id of generateTokens(model, encode('To be'), { maxTokens: 20, temperature: 0.8, topK: 40, seed: 1 }))
 *   process.stdout.write(decode([id]));
 * ```
 */
export async function* generateTokens(model: tf.LayersModel, prompt: number[], options: GenerateOptions): AsyncGenerator<number, void, undefined> {
  const layer = findGptLayer(model);
  if (!layer) throw new ModelError('generateTokens needs a GPT (the gpt architecture of a text task)');
  checkOptions(layer, prompt, options);
  const { maxTokens, temperature, topK, signal, cache: useCache = true } = options;
  const { contextLength, heads } = layer.gpt;
  const random = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const tokens = [...prompt];
  let start = Math.max(0, tokens.length - contextLength);
  let cache: LayerCache[] | undefined;
  let cacheStart = -1;
  const dropCache = () => {
    if (cache) tf.dispose(cache.flatMap((c) => [c.keys, c.values]));
    cache = undefined;
  };
  try {
    for (let n = 0; n < maxTokens && !signal?.aborted; n++) {
      start = windowStart(tokens.length, start, contextLength);
      if (cacheStart !== start) dropCache();
      const weights = layer.weightTensors();
      // With a cache of this window: only the tokens it has not read (one). Otherwise the whole window.
      const past = useCache ? cache : undefined;
      const fresh = tokens.slice(start + (past ? past[0].keys.shape[2] : 0));
      const [logits, ...kept] = tf.tidy(() => {
        const ids = tf.tensor2d(fresh, [1, fresh.length], 'int32');
        const result = gptForward(weights, heads, ids, { past, lastOnly: true });
        return [result.logits, ...(useCache ? result.cache.flatMap((c) => [c.keys, c.values]) : [])];
      });
      if (useCache) {
        dropCache();
        cache = Array.from({ length: kept.length / 2 }, (_, i) => ({ keys: kept[2 * i], values: kept[2 * i + 1] }));
        cacheStart = start;
      }
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      const token = pickToken(values, random, temperature, topK);
      tokens.push(token);
      yield token;
      await yieldToEventLoop();
    }
  } finally {
    dropCache();
  }
}
