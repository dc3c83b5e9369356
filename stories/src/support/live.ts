// The Live stories talk to a real `disco serve`. Start one that lets Storybook's origin call it:
//   npx disco serve --cors http://localhost:6006 --admin-token story-admin
import type { ArgTypes } from '@storybook/web-components-vite';

export const defaultServer = 'http://127.0.0.1:8080';

export const liveArgTypes: Partial<ArgTypes> = {
  server: { control: 'text', description: 'URL of a running `disco serve` (started with `--cors http://localhost:6006`).' },
};

export const liveDocs = {
  docs: {
    description: {
      story:
        'Talks to a running server: `npx disco serve --cors http://localhost:6006 --admin-token story-admin`, then set the `server` control to its URL.',
    },
  },
};
