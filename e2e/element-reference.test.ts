// The README's element reference lists every element, attribute and event of the elements' manifest
// (generated from their JSDoc). Format: packages/elements/scripts/element-reference.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyze, checkReference, elementsOf, renderReference, type ElementDoc } from '../packages/elements/scripts/element-reference.js';

const readme = new URL('../README.md', import.meta.url);

test('the manifest has the six elements with their tag names', async () => {
  const tags = elementsOf(await analyze()).map((e) => e.tagName);

  for (const tag of ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library']) {
    assert.ok(tags.includes(tag), `<${tag}> is missing from the manifest (found ${tags.join(', ')})`);
  }
});

test("the README's element reference documents every element, attribute and event", async () => {
  const elements = elementsOf(await analyze());

  const problems = checkReference(elements, readFileSync(readme, 'utf8'));

  assert.deepEqual(problems, [], `README.md is missing (npx tsx packages/elements/scripts/element-reference.ts print writes a reference to start from):\n${problems.join('\n')}`);
});

const sample: ElementDoc[] = [
  {
    tagName: 'disco-x',
    className: 'DiscoX',
    summary: 'An example.',
    attributes: [{ name: 'server' }, { name: 'task-id' }],
    methods: [],
    events: [{ name: 'disco-error' }],
    slots: [],
    cssParts: [],
    cssProperties: [],
  },
];

test('checkReference names each undocumented attribute and event, and stale headings', () => {
  const markdown = '# P\n\n## Element reference\n\n### `<disco-x>`\n\n`server` only\n\n### <disco-gone>\n\n## Licence\n\n`task-id` `disco-error`\n';

  const problems = checkReference(sample, markdown);

  assert.deepEqual(problems, [
    '<disco-x>: attribute `task-id` is not documented',
    '<disco-x>: event `disco-error` is not documented',
    '<disco-gone>: documented but no such element is registered',
  ]);
});

test('checkReference accepts the reference that renderReference writes', () => {
  const markdown = `# P\n\n${renderReference(sample)}\n## Licence\n`;

  assert.deepEqual(checkReference(sample, markdown), []);
});

test('checkReference reports a README without the section', () => {
  assert.deepEqual(checkReference(sample, '# P\n'), ['the README has no "## Element reference" section']);
});
