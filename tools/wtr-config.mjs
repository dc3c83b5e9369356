// Shared web-test-runner settings for the packages whose tests run in headless Chromium.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { prebundleDeps } from './wtr-prebundle.mjs';
import { countReporter } from './wtr-count-reporter.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Browser-test config for the package at `packageDir` (absolute). */
export function wtrConfig({ packageDir, files, deps = [], plugins = [], timeout = 60000, ...rest }) {
  return {
    rootDir: root, // the monorepo root: hoisted node_modules and the pre-bundle folder are served from it
    files,
    nodeResolve: { exportConditions: ['source', 'browser', 'production'] },
    concurrency: 1,
    testFramework: { config: { timeout } },
    browserStartTimeout: 60000,
    testsStartTimeout: 120000,
    testsFinishTimeout: 15 * 60000,
    reporters: [defaultReporter(), countReporter()],
    plugins: [
      esbuildPlugin({ ts: true, target: 'es2022', tsconfig: path.join(packageDir, 'tsconfig.json') }),
      prebundleDeps({
        deps: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'simple-peer', ...deps],
        alias: { 'simple-peer': 'simple-peer/simplepeer.min.js' },
        outDir: path.join(packageDir, '.wtr-deps'),
      }),
      ...plugins,
    ],
    browsers: [
      chromeLauncher({
        launchOptions: {
          executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
          headless: true,
          args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
        },
      }),
    ],
    ...rest,
  };
}
