import { concatBytes } from '../secure/bytes.js';
import type { Task } from '../task/schema.js';

/** The tokenizers a text task may name (`task.text.tokenizer`). */
export type TokenizerName = NonNullable<Task['text']>['tokenizer'];

/**
 * A byte-pair tokenizer: text to token ids and back. `encode` reads every character as text (a literal
 * `<|endoftext|>` in a file is text, not the special token); `decode` turns the token ids' bytes into text,
 * with U+FFFD for bytes that do not form UTF-8 (e.g. a prefix cut inside a character).
 */
export interface Tokenizer {
  readonly name: TokenizerName;
  /** Number of token ids, 0 … vocabularySize − 1 (GPT-2: 50,257). */
  readonly vocabularySize: number;
  /** The id of `<|endoftext|>` (GPT-2: 50,256), which separates documents. */
  readonly endOfText: number;
  encode(text: string): number[];
  /** @throws RangeError for an id outside 0 … vocabularySize − 1. */
  decode(tokens: readonly number[]): string;
  /**
   * A decoder for tokens that arrive one at a time (generation): `push` returns the text completed by the
   * token, holding back the bytes of a character that is not complete yet; `flush` returns what is left.
   * Concatenated, the pieces equal `decode` of all the tokens.
   */
  streamDecoder(): { push(token: number): string; flush(): string };
}

/** The GPT-2 vocabulary: 50,000 merges, 256 bytes and `<|endoftext|>`. */
export const GPT2_VOCABULARY_SIZE = 50257;
/** GPT-2's `<|endoftext|>` id. */
export const GPT2_END_OF_TEXT = 50256;

const END_OF_TEXT = '<|endoftext|>';

const loading = new Map<TokenizerName, Promise<Tokenizer>>();

/**
 * The tokenizer a text task names (`task.text.tokenizer`): `gpt2` is GPT-2's byte-pair encoding (r50k_base,
 * from the `gpt-tokenizer` package, run offline). Its ranks (~1 MB of code) are imported on first use, so
 * pages that never touch text do not load them; later calls return the same tokenizer.
 *
 * @example
 * const tokenizer = await loadTokenizer('gpt2');
 * tokenizer.encode('Hello world'); // [15496, 995]
 */
export function loadTokenizer(name: TokenizerName = 'gpt2'): Promise<Tokenizer> {
  let promise = loading.get(name);
  if (!promise) {
    promise = createGpt2Tokenizer();
    // A failed import (e.g. a network error fetching the chunk) may succeed later: do not keep it.
    promise.catch(() => loading.delete(name));
    loading.set(name, promise);
  }
  return promise;
}

async function createGpt2Tokenizer(): Promise<Tokenizer> {
  const [{ encode }, { default: ranks }] = await Promise.all([import('gpt-tokenizer/encoding/r50k_base'), import('gpt-tokenizer/bpeRanks/r50k_base')]);
  if (ranks.length + 1 !== GPT2_VOCABULARY_SIZE) throw new Error(`the GPT-2 ranks hold ${ranks.length} tokens, expected ${GPT2_VOCABULARY_SIZE - 1}`);
  const noSpecialTokens = { disallowedSpecial: new Set<string>() };
  const utf8 = new TextEncoder();
  // Each token's bytes, computed on first use. gpt-tokenizer's own decode shares one streaming TextDecoder
  // between calls, so a call that ends inside a character corrupts the next one: we decode bytes ourselves.
  const bytesOf = new Array<Uint8Array | undefined>(GPT2_VOCABULARY_SIZE);
  const tokenBytes = (token: number): Uint8Array => {
    if (!Number.isInteger(token) || token < 0 || token >= GPT2_VOCABULARY_SIZE)
      throw new RangeError(`token ${token} is not a GPT-2 token id (0 … ${GPT2_VOCABULARY_SIZE - 1})`);
    let bytes = bytesOf[token];
    if (!bytes) {
      const rank = token === GPT2_END_OF_TEXT ? END_OF_TEXT : ranks[token];
      bytes = typeof rank === 'string' ? utf8.encode(rank) : Uint8Array.from(rank);
      bytesOf[token] = bytes;
    }
    return bytes;
  };
  return {
    name: 'gpt2',
    vocabularySize: GPT2_VOCABULARY_SIZE,
    endOfText: GPT2_END_OF_TEXT,
    encode: (text) => encode(text, noSpecialTokens),
    decode: (tokens) => new TextDecoder('utf-8').decode(concatBytes(...tokens.map(tokenBytes))),
    streamDecoder: () => {
      const decoder = new TextDecoder('utf-8');
      return { push: (token) => decoder.decode(tokenBytes(token), { stream: true }), flush: () => decoder.decode() };
    },
  };
}
