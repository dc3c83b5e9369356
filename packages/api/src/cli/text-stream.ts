/**
 * Turns a stream of generated tokens into text that can be printed as it comes. A GPT-2 token is a run of
 * bytes, not of characters: an emoji or an accented letter may be split across two tokens, and decoding the
 * first alone gives U+FFFD replacement characters. So the whole continuation is decoded each time and only
 * its stable part is released: everything before a trailing run of U+FFFD (an incomplete UTF-8 sequence,
 * which the next token may complete). UTF-8 resynchronises at every character start, so what was released
 * is a prefix of every later decoding. At the end, {@link TextStream.flush} releases the rest as it is.
 */
export class TextStream {
  private readonly tokens: number[] = [];
  private released = 0;

  constructor(private readonly decode: (tokens: number[]) => string) {}

  /** Adds one token; returns the text it completes ('' while a character is still incomplete). */
  push(token: number): string {
    this.tokens.push(token);
    const text = this.decode(this.tokens);
    // Bytes that never make a character (the model may generate them) are held until text follows, or the flush.
    let end = text.length;
    while (end > this.released && text[end - 1] === '\uFFFD') end -= 1;
    return this.release(text, end);
  }

  /** The text not yet released (an incomplete character at the very end, as U+FFFD). */
  flush(): string {
    const text = this.decode(this.tokens);
    return this.release(text, text.length);
  }

  /** Everything decoded so far. */
  get text(): string {
    return this.decode(this.tokens);
  }

  /** Tokens pushed so far. */
  get count(): number {
    return this.tokens.length;
  }

  private release(text: string, end: number): string {
    if (end <= this.released) return '';
    const chunk = text.slice(this.released, end);
    this.released = end;
    return chunk;
  }
}
