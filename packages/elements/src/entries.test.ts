import { expect } from '@open-wc/testing';

// The per-element entry points of package.json#exports, imported by the package's own name as a page
// would: each registers its element and no other (this file's page imports nothing else).
const tags = ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library'];
const registered = () => tags.filter((tag) => customElements.get(tag) !== undefined);

describe('@disco/elements per-element entry points', () => {
  it('register only the element each one names', async () => {
    expect(registered()).to.deep.equal([]);
    const { DiscoTaskList } = await import('@disco/elements/task-list.js');
    expect(registered()).to.deep.equal(['disco-task-list']);
    expect(customElements.get('disco-task-list')).to.equal(DiscoTaskList);
    await import('@disco/elements/train.js');
    expect(registered()).to.deep.equal(['disco-task-list', 'disco-train']);
    await import('@disco/elements/task.js');
    await import('@disco/elements/evaluate.js');
    expect(registered()).to.deep.equal(['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate']);
    await import('@disco/elements/task-form.js');
    const { DiscoModelLibrary } = await import('@disco/elements/model-library.js');
    expect(registered()).to.deep.equal(tags);
    expect(customElements.get('disco-model-library')).to.equal(DiscoModelLibrary);
  });

  it('share one page-wide configuration with the full entry', async () => {
    const { configure } = await import('@disco/elements/config.js');
    const full = await import('@disco/elements');
    configure({ wasmPaths: '/entries/' });
    expect(full.getConfig().wasmPaths).to.equal('/entries/');
  });
});
