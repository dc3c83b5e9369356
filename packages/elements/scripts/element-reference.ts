// The element reference, from the elements' JSDoc: analyses src/ with the manifest's configuration,
// checks that a README documents every element, attribute and event, and prints a Markdown reference.
//
//   npx tsx scripts/element-reference.ts check [README.md]   exit 1 and list what the README lacks
//   npx tsx scripts/element-reference.ts print               a reference section to start from
//
// The README's format: a `## Element reference` section with one `### <disco-x>` heading per element
// (backticks around the tag allowed); under each heading, every attribute and event name in backticks.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: the analyzer's CLI module ships no types
import { cli as untypedCli } from '@custom-elements-manifest/analyzer/cli.js';

/** The analyzer's CLI entry, as this script calls it (resolves to the manifest with `noWrite`). */
const cli = untypedCli as (options: { argv: string[]; cwd: string; noWrite: boolean }) => Promise<unknown>;

const packageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Named {
  name: string;
  description?: string;
  type?: { text: string };
  default?: string;
}
interface Declaration {
  kind: string;
  name: string;
  tagName?: string;
  customElement?: boolean;
  summary?: string;
  description?: string;
  attributes?: (Named & { fieldName?: string })[];
  members?: (Named & { kind: string; privacy?: string; static?: boolean; inheritedFrom?: { name: string } })[];
  events?: Named[];
  slots?: Named[];
  cssParts?: Named[];
  cssProperties?: Named[];
}
export interface Manifest {
  modules: { path: string; declarations?: Declaration[] }[];
}

/** An element of the manifest, as the reference documents it. */
export interface ElementDoc {
  tagName: string;
  className: string;
  summary: string;
  attributes: Named[];
  methods: Named[];
  events: Named[];
  slots: Named[];
  cssParts: Named[];
  cssProperties: Named[];
}

/** The custom-elements manifest of the current sources, computed in memory (nothing is written). */
export async function analyze(): Promise<Manifest> {
  return (await cli({ argv: ['analyze', '--config', 'scripts/custom-elements-manifest.config.mjs', '--quiet'], cwd: packageDir, noWrite: true })) as Manifest;
}

/** The registered elements of a manifest, sorted by tag name. */
export function elementsOf(manifest: Manifest): ElementDoc[] {
  const elements: ElementDoc[] = [];
  for (const module of manifest.modules) {
    for (const d of module.declarations ?? []) {
      if (d.kind !== 'class' || !d.customElement || !d.tagName) continue;
      elements.push({
        tagName: d.tagName,
        className: d.name,
        // The whole header comment (the analyzer's description, which starts with the summary's text).
        summary: (d.description || d.summary || '').replace(/\s+/g, ' ').trim(),
        attributes: d.attributes ?? [],
        // Own public methods only: DiscoElement's `emit()` is for the elements themselves.
        methods: (d.members ?? []).filter((m) => m.kind === 'method' && !m.static && !m.inheritedFrom && (m.privacy ?? 'public') === 'public'),
        events: uniqueByName(d.events ?? []),
        slots: d.slots ?? [],
        cssParts: d.cssParts ?? [],
        cssProperties: d.cssProperties ?? [],
      });
    }
  }
  return elements.sort((a, b) => a.tagName.localeCompare(b.tagName));
}

function uniqueByName<T extends Named>(items: T[]): T[] {
  return [...new Map(items.filter((i) => i.name).map((i) => [i.name, i])).values()];
}

/**
 * What `markdown` (a README) lacks of the reference: every element of the manifest needs a heading in its
 * `## Element reference` section, and every attribute and event of an element its name in backticks
 * under that heading. Also reports headings of elements that no longer exist. Empty when complete.
 */
export function checkReference(elements: ElementDoc[], markdown: string): string[] {
  const section = /^## Element reference[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1];
  if (section === undefined) return ['the README has no "## Element reference" section'];
  const documented = new Map<string, string>();
  for (const part of section.split(/^(?=### )/m)) {
    const tag = /^###\s+`?<(disco-[a-z0-9-]+)>`?/.exec(part)?.[1];
    if (tag) documented.set(tag, part);
  }
  const problems: string[] = [];
  for (const element of elements) {
    const text = documented.get(element.tagName);
    if (text === undefined) {
      problems.push(`<${element.tagName}>: no "### <${element.tagName}>" heading`);
      continue;
    }
    for (const attribute of element.attributes) {
      if (!text.includes(`\`${attribute.name}\``)) problems.push(`<${element.tagName}>: attribute \`${attribute.name}\` is not documented`);
    }
    for (const event of element.events) {
      if (!text.includes(`\`${event.name}\``)) problems.push(`<${element.tagName}>: event \`${event.name}\` is not documented`);
    }
  }
  for (const tag of documented.keys()) {
    if (!elements.some((e) => e.tagName === tag)) problems.push(`<${tag}>: documented but no such element is registered`);
  }
  return problems;
}

const cell = (text = '') => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

/** A complete `## Element reference` section in the format {@link checkReference} expects. */
export function renderReference(elements: ElementDoc[]): string {
  const lines = ['## Element reference', ''];
  for (const e of elements) {
    lines.push(`### \`<${e.tagName}>\``, '', e.summary, '');
    if (e.attributes.length) {
      lines.push('| Attribute | Type | Default | Description |', '| --- | --- | --- | --- |');
      for (const a of e.attributes) lines.push(`| \`${a.name}\` | ${cell(a.type?.text)} | ${cell(a.default)} | ${cell(a.description)} |`);
      lines.push('');
    }
    const list = (title: string, items: Named[], suffix = '') => {
      if (!items.length) return;
      lines.push(`${title}:`, '');
      for (const i of items) lines.push(`- \`${i.name}${suffix}\`${i.description ? `: ${cell(i.description)}` : ''}`);
      lines.push('');
    };
    list('Methods', e.methods, '()');
    list('Events', e.events);
    list('Slots', e.slots);
    list('Parts', e.cssParts);
    list('CSS custom properties', e.cssProperties);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const [command = 'check', readme = path.join(packageDir, '..', '..', 'README.md')] = process.argv.slice(2);
  const elements = elementsOf(await analyze());
  if (command === 'print') {
    console.log(renderReference(elements));
  } else {
    const problems = checkReference(elements, readFileSync(readme, 'utf8'));
    for (const problem of problems) console.error(problem);
    console.log(problems.length ? `${readme}: ${problems.length} problems` : `${readme}: all ${elements.length} elements documented`);
    process.exit(problems.length ? 1 : 0);
  }
}
