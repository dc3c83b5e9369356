/**
 * The lines of a text file, trimmed, without the empty ones: the examples of a language-model task.
 * Accepts `\n`, `\r\n` and `\r` line endings.
 */
export function readTextLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
