// Configuration of `cem analyze` (@custom-elements-manifest/analyzer) for custom-elements.json:
// `npm run manifest -w @disco/elements`, or `cem analyze --config scripts/custom-elements-manifest.config.mjs`.

/**
 * The elements register with `DiscoTaskList.define('disco-task-list')` (a tolerant wrapper of
 * `customElements.define`), which the analyzer does not recognise: this plugin finds those calls and
 * marks the classes as custom elements with their tag names, as a `customElements.define` call would.
 */
function discoDefinePlugin() {
  const definitions = []; // { className, tagName, modulePath }
  return {
    name: 'disco-define',
    analyzePhase({ ts, node, moduleDoc }) {
      if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return;
      const { expression: target, name } = node.expression;
      const [tag] = node.arguments;
      if (name.text !== 'define' || !ts.isIdentifier(target) || !tag || !ts.isStringLiteral(tag) || !tag.text.includes('-')) return;
      definitions.push({ className: target.text, tagName: tag.text, modulePath: moduleDoc.path });
    },
    packageLinkPhase({ customElementsManifest }) {
      for (const { className, tagName, modulePath } of definitions) {
        const home = customElementsManifest.modules.find((m) => m.declarations?.some((d) => d.kind === 'class' && d.name === className));
        const declaration = home?.declarations.find((d) => d.kind === 'class' && d.name === className);
        if (!home || !declaration) throw new Error(`${modulePath}: ${className}.define('${tagName}') names no class of the analyzed sources`);
        declaration.customElement = true;
        declaration.tagName = tagName;
        const registering = customElementsManifest.modules.find((m) => m.path === modulePath);
        registering.exports = [
          ...(registering.exports ?? []),
          { kind: 'custom-element-definition', name: tagName, declaration: { name: className, module: home.path } },
        ];
      }
      definitions.length = 0; // the watch mode runs the phases again
    },
  };
}

/**
 * What the manifest's readers (Storybook's docs pages and controls, editors) should see of a class: its
 * public API only, and a description. `@summary` in the elements' JSDoc runs on into the long text, which
 * the analyzer keeps whole as the summary: its first paragraph stays the summary, the whole is the description.
 */
function publicApiPlugin() {
  return {
    name: 'disco-public-api',
    packageLinkPhase({ customElementsManifest }) {
      for (const module of customElementsManifest.modules) {
        for (const declaration of module.declarations ?? []) {
          if (declaration.kind !== 'class') continue;
          if (declaration.members) {
            declaration.members = declaration.members.filter((m) => !m.privacy || m.privacy === 'public').filter((m) => !m.name.startsWith('#'));
          }
          if (declaration.summary && !declaration.description) {
            declaration.description = declaration.summary;
            declaration.summary = declaration.summary.split(/\n\s*\n/)[0].replace(/\s+/g, ' ').trim();
          }
        }
      }
    },
  };
}

export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts', 'src/**/*.stories.ts', 'src/testing/**'],
  outdir: '.',
  litelement: true,
  packagejson: false, // the field is already in package.json; the analyzer would rewrite it with its outdir
  plugins: [discoDefinePlugin(), publicApiPlugin()],
};
