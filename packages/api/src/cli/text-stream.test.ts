import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TextStream } from './text-stream.js';

// Tokens as single bytes, decoded the way a byte-level BPE decodes them (TextDecoder, U+FFFD for broken sequences).
const decodeBytes = (tokens: number[]) => new TextDecoder().decode(new Uint8Array(tokens));
const bytes = (text: string) => [...new TextEncoder().encode(text)];

describe('TextStream', () => {
  test('releases a character split across tokens only once it is complete', () => {
    const stream = new TextStream(decodeBytes);
    const chunks = bytes('a€😀b').map((b) => stream.push(b));

    // '€' is 3 bytes and '😀' 4: nothing is released until their last byte.
    assert.deepEqual(chunks, ['a', '', '', '€', '', '', '', '😀', 'b']);
    assert.equal(stream.flush(), '');
    assert.equal(stream.text, 'a€😀b');
  });

  test('the released chunks add up to the whole decoding, broken bytes included (held until text follows, or the flush)', () => {
    const stream = new TextStream(decodeBytes);
    const input = [0x68, 0xff, 0xfe, 0x69, 0xe2, 0x82];

    const released = input.map((b) => stream.push(b)).join('') + stream.flush();

    assert.equal(released, decodeBytes(input));
    assert.equal(released, 'h\uFFFD\uFFFDi\uFFFD');
  });
});
