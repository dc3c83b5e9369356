// A web-test-runner plugin that pre-bundles CommonJS-heavy dependencies (TF.js, simple-peer) once with
// esbuild, as Vite's optimizeDeps does: WTR serves files one by one and cannot turn CJS into ESM itself.
import * as esbuild from 'esbuild';
import path from 'node:path';

export function prebundleDeps({ deps, outDir, alias = {} }) {
  const key = (d) => d.replace(/^@/, '').replace(/[/.]/g, '__');
  let urlBase;
  return {
    name: 'prebundle-deps',
    async serverStart({ config }) {
      urlBase = '/' + path.relative(config.rootDir, outDir).split(path.sep).join('/');
      await esbuild.build({
        entryPoints: Object.fromEntries(deps.map((d) => [key(d), alias[d] ?? d])),
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        outdir: outDir,
        logLevel: 'warning',
        define: { 'process.env.NODE_ENV': '"development"', global: 'globalThis' },
      });
    },
    resolveImport({ source }) {
      if (deps.includes(source)) return `${urlBase}/${key(source)}.js`;
    },
  };
}
