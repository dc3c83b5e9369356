import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT2_END_OF_TEXT, GPT2_VOCABULARY_SIZE, loadTokenizer } from './tokenizer.js';

// GPT-2 ids, as OpenAI's tiktoken (`gpt2`) and gpt-tokenizer's own tests give them.
const known: [string, number[]][] = [
  ['Hello world', [15496, 995]],
  ['This is some text', [1212, 318, 617, 2420]],
  ['indivisible', [521, 452, 12843]],
  ['hello 👋 world 🌍', [31373, 50169, 233, 995, 12520, 234, 235]],
  ['hello, I am a text, and I have commas. a,b,c', [31373, 11, 314, 716, 257, 2420, 11, 290, 314, 423, 725, 292, 13, 257, 11, 65, 11, 66]],
  [' ', [220]],
  ['\t', [197]],
  ['\n\n', [628]],
];

test('gpt2 encodes known strings to their GPT-2 ids', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  for (const [text, ids] of known) assert.deepEqual(tokenizer.encode(text), ids, JSON.stringify(text));
  assert.equal(tokenizer.vocabularySize, GPT2_VOCABULARY_SIZE);
  assert.equal(tokenizer.endOfText, GPT2_END_OF_TEXT);
  assert.equal(tokenizer.decode([GPT2_END_OF_TEXT]), '<|endoftext|>');
});

test('a literal <|endoftext|> in a text is text, not the special token', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const ids = tokenizer.encode('a<|endoftext|>b');
  assert.ok(!ids.includes(GPT2_END_OF_TEXT));
  assert.equal(tokenizer.decode(ids), 'a<|endoftext|>b');
});

test('decode(encode(s)) is s for unicode text, and cut tokens do not leak into the next decode', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const texts = ['Ça va? 日本語のテキスト — “quotes” ñ 𝔘𝔫𝔦', 'a👋b', '  Ham. To be, or not to be,\n\tthat is the Question:', 'Ünïcödé ∑ x² 🧪'];
  for (const text of texts) assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  // 👋 is two tokens: its first alone is half a character (U+FFFD), and the next decode is unaffected
  // (gpt-tokenizer's own decode carried the half character over into the next call: "a�👋").
  const [first, second] = tokenizer.encode('👋');
  assert.equal(tokenizer.decode([first]), '\uFFFD');
  assert.equal(tokenizer.decode(tokenizer.encode('a👋')), 'a👋');
  assert.equal(tokenizer.decode([first, second]), '👋');
});

test('the stream decoder holds back half characters and adds up to decode', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  const ids = tokenizer.encode('hello 👋 world 🌍!');
  const stream = tokenizer.streamDecoder();
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.flush());
  assert.equal(pieces.join(''), 'hello 👋 world 🌍!');
  assert.ok(pieces.every((p) => !p.includes('\uFFFD')), JSON.stringify(pieces));
  assert.equal(pieces[1], ' '); // the space before 👋 is out; 👋's first byte waits for the second token
});

test('ids outside the vocabulary are refused', async () => {
  const tokenizer = await loadTokenizer('gpt2');
  assert.throws(() => tokenizer.decode([GPT2_VOCABULARY_SIZE]), RangeError);
  assert.throws(() => tokenizer.decode([-1]), /not a GPT-2 token id/);
  assert.throws(() => tokenizer.decode([1.5]), RangeError);
});

test('the tokenizer is loaded once', async () => {
  assert.equal(await loadTokenizer('gpt2'), await loadTokenizer());
});
