// Storybook 10, configured by hand (`storybook init` cannot install here: TOOLCHAIN §7). Offline, no telemetry.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { StorybookConfig } from '@storybook/web-components-vite';

// TF.js asks for its wasm binaries by name; the stories serve them under `wasm/` (see preview.ts).
const wasmDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

const config: StorybookConfig = {
  stories: ['../src/**/*.mdx', '../src/**/*.stories.ts'],
  addons: ['@storybook/addon-docs'],
  framework: { name: '@storybook/web-components-vite', options: {} },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  staticDirs: [{ from: wasmDir, to: '/wasm' }],
  async viteFinal(viteConfig) {
    const { mergeConfig, defaultClientConditions } = await import('vite');
    return mergeConfig(viteConfig, {
      // Workspace packages resolve to their TypeScript sources; simple-peer to its browser build (TOOLCHAIN §6).
      resolve: {
        conditions: ['source', ...defaultClientConditions],
        alias: [{ find: /^simple-peer$/, replacement: 'simple-peer/simplepeer.min.js' }],
      },
      worker: { format: 'es' },
      build: { chunkSizeWarningLimit: 4096 }, // TF.js
    });
  },
};
export default config;
