// The Live stories talk to a real `disco serve`. Start one that lets Storybook's origin call it:
//   npx disco serve --cors http://localhost:6006 --admin-token story-admin
// and set the `server` control to its URL, or open the story's iframe with `&disco-server=<url>` (what
// `scripts/check-stories.mjs --server <url>` does for the end-to-end test).
import type { ArgTypes } from '@storybook/web-components-vite';

/** The server of the Live stories: the iframe's `disco-server` parameter, or `disco serve`'s default address. */
export const defaultServer = new URLSearchParams(location.search).get('disco-server') ?? 'http://127.0.0.1:8080';

/** The admin token the Live stories expect the server to have been started with. */
export const liveAdminToken = 'story-admin';

export const liveArgTypes: Partial<ArgTypes> = {
  server: { control: 'text', description: 'URL of a running `disco serve` (started with `--cors http://localhost:6006`).' },
};

export const liveDocs = {
  docs: {
    description: {
      story: `Talks to a running server: \`npx disco serve --cors http://localhost:6006 --admin-token ${liveAdminToken}\`, then set the \`server\` control to its URL.`,
    },
  },
};

/** The text of an element with its shadow root and those of the elements inside it. */
function deepText(node: Node): string {
  const own = node instanceof Element && node.shadowRoot ? deepText(node.shadowRoot) : '';
  if (node.nodeType === Node.TEXT_NODE) return node.textContent ?? '';
  return own + [...node.childNodes].map(deepText).join(' ');
}

/**
 * What a Live story's play checks once the element has talked to the server: no error shown, and
 * `expected` (something only the server's answer can have put there) shown, within a few seconds (the
 * element renders the answer after its data promise settles). Throws otherwise, so that the story fails.
 */
export async function expectFromServer(element: HTMLElement, expected: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const error = element.shadowRoot?.querySelector('[role="alert"]');
    if (error) throw new Error(`The server at ${defaultServer} answered with an error: ${error.textContent?.trim()}`);
    if (deepText(element).includes(expected)) return;
    if (Date.now() > until) throw new Error(`"${expected}" is not shown: did ${defaultServer} answer?`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
