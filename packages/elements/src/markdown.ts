import DOMPurify from 'dompurify';
import { marked } from 'marked';

/**
 * Renders a task's markdown to sanitized HTML. Task texts come from servers the page does not control:
 * marked turns markdown into HTML, DOMPurify then removes anything that could run (scripts, event
 * handlers, `javascript:` links), whatever the markdown contained.
 */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
}
