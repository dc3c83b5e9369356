import type { GptSize } from '../../task/schema.js';

/** The shape of one `gpt` size: transformer blocks, attention heads per block, embedding width. */
export interface GptShape {
  layers: number;
  heads: number;
  embedding: number;
}

/**
 * The named sizes of the `gpt` architecture (`task.model.gpt.size`), from `nano` (about 2.5 M weights,
 * most of them the token embedding) to GPT-2 small's shape (`gpt2`: 124 M at context 1024).
 */
export const GPT_SIZES: Readonly<Record<GptSize, Readonly<GptShape>>> = {
  nano: { layers: 3, heads: 3, embedding: 48 },
  micro: { layers: 4, heads: 4, embedding: 128 },
  mini: { layers: 6, heads: 6, embedding: 192 },
  gpt2: { layers: 12, heads: 12, embedding: 768 },
};

/** Tokens of the GPT-2 byte-pair encoding (r50k_base): the `gpt` model's input ids and output logits. */
export const GPT2_VOCABULARY = 50257;

/**
 * The number of weights of a GPT of this shape, without building it: token and position embeddings,
 * per block two layer norms (2·2C), attention (C·3C + 3C, C·C + C) and MLP (C·4C + 4C, 4C·C + C), the
 * final layer norm (2C). The output head is tied to the token embedding, so it adds nothing.
 *
 * @example
 * gptParameterCount(GPT_SIZES.gpt2, 1024, GPT2_VOCABULARY) // 124_439_808, GPT-2 small's count
 */
export function gptParameterCount(shape: GptShape, contextLength: number, vocabulary: number): number {
  const c = shape.embedding;
  return vocabulary * c + contextLength * c + shape.layers * (12 * c * c + 13 * c) + 2 * c;
}
