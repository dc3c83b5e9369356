import type { Preview } from '@storybook/web-components-vite';
import { setCustomElementsManifest } from '@storybook/web-components-vite';
// Generated from the elements' JSDoc by `npm run manifest -w @disco/elements` (the storybook scripts run it first).
import manifest from '../../packages/elements/custom-elements.json' with { type: 'json' };

// Controls and the docs pages' attribute, event, slot, part and CSS-property tables come from the manifest.
setCustomElementsManifest(manifest);

const preview: Preview = {
  tags: ['autodocs'],
  parameters: {
    controls: { expanded: true, sort: 'requiredFirst' },
    docs: { toc: true },
    backgrounds: { disable: true }, // the elements bring their own light and dark themes (the `theme` control)
  },
};
export default preview;
