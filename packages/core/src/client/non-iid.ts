import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { weightShapes } from '../model/index.js';
import { shapeSize } from '../weights/flat.js';

/**
 * Client-side help for federations whose participants hold different data (non-IID), pure functions over
 * flat weights. Both act on where local training starts and leave the update's meaning (local − global)
 * unchanged, so any FedAvg server aggregates them as usual.
 */

/** Logits subtracted from the output bias of a class absent from the local data: its probability underflows to exactly 0. */
export const ABSENT_CLASS_OFFSET = 1e4;

/** Class indices with no example in `dataset` (none for unlabelled data). */
export function absentClasses(dataset: Dataset): number[] {
  if (!dataset.labels) return [];
  const seen = new Uint8Array(dataset.classes.length);
  for (let i = 0; i < dataset.count; i++) seen[dataset.labels[i]] = 1;
  return [...seen.keys()].filter((c) => !seen[c]);
}

/**
 * Where the bias of the model's softmax output layer sits in its flat weights, or null when the model does
 * not end in a softmax layer with a bias of one value per class.
 */
export function outputBiasOffset(model: tf.LayersModel, classes: number): number | null {
  const last = model.layers[model.layers.length - 1];
  const config = last.getConfig() as { activation?: unknown; useBias?: unknown };
  if (config.activation !== 'softmax' || config.useBias === false) return null;
  let offset = 0;
  for (const { name, shape } of weightShapes(model)) {
    if (name === `${last.name}/bias`) return shape.length === 1 && shape[0] === classes ? offset : null;
    offset += shapeSize(shape);
  }
  return null;
}

/**
 * Weights with the output bias of `absent` classes lowered by {@link ABSENT_CLASS_OFFSET}: trained from there,
 * the model gives those classes zero probability, so their output weights get exactly zero gradient and local
 * training does not teach the model to never predict what this participant has not seen (a restricted
 * softmax, as in FedRS, Li & Zhan 2021). {@link unmaskClasses} puts the bias back.
 */
export function maskClasses(values: Float32Array, biasOffset: number, absent: readonly number[]): Float32Array {
  const masked = values.slice();
  for (const c of absent) masked[biasOffset + c] -= ABSENT_CLASS_OFFSET;
  return masked;
}

/** Restores the masked bias entries of `trained` to their values in `start` (they did not train: zero gradient). */
export function unmaskClasses(trained: Float32Array, start: Float32Array, biasOffset: number, absent: readonly number[]): void {
  for (const c of absent) trained[biasOffset + c] = start[biasOffset + c];
}

/**
 * The starting point of momentum `beta` (heavy ball on the global model, as FedAvgM, computed by each
 * client): `global + beta × (global − previous)`. Since every participant starts there and sends
 * local − global, the mean update carries `beta ×` the last global step.
 */
export function lookahead(global: Float32Array, previous: Float32Array | null, beta: number): Float32Array {
  if (!previous || beta === 0) return global.slice();
  const out = new Float32Array(global.length);
  for (let i = 0; i < global.length; i++) out[i] = global[i] + beta * (global[i] - previous[i]);
  return out;
}
