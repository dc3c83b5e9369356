import type { Preview } from '@storybook/web-components-vite';
import { setCustomElementsManifest } from '@storybook/web-components-vite';
import { withActions } from 'storybook/actions/decorator';
import { configure } from '@disco/elements';
// Generated from the elements' JSDoc by `npm run manifest -w @disco/elements` (the storybook scripts run it first).
import manifest from '../../packages/elements/custom-elements.json' with { type: 'json' };

// Controls and the docs pages' attribute, event, slot, part and CSS-property tables come from the manifest.
setCustomElementsManifest(manifest);

// main.ts serves TF.js's wasm binaries under wasm/, next to the iframe.
configure({ wasmPaths: new URL('wasm/', document.baseURI).href });

// Every `disco-*` event the manifest documents shows in the Actions panel.
const events = new Set<string>();
for (const module of manifest.modules) {
  for (const declaration of (module.declarations ?? []) as { events?: { name?: string }[] }[]) {
    for (const event of declaration.events ?? []) if (event.name?.startsWith('disco-')) events.add(event.name);
  }
}

const preview: Preview = {
  tags: ['autodocs'],
  decorators: [withActions],
  parameters: {
    actions: { handles: [...events] },
    controls: { expanded: true, sort: 'requiredFirst' },
    docs: { toc: true },
  },
};
export default preview;
