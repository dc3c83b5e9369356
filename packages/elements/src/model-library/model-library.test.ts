import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { ModelStore, type StoredModelFiles } from '../library/model-store.js';
import type { DiscoModelLibrary } from './model-library.element.js';
import './model-library.js';

const files: StoredModelFiles = {
  modelJson: { modelTopology: {}, weightsManifest: [{ paths: ['./weights.bin'], weights: [] }] },
  weightsBin: new Uint8Array([1, 2, 3, 4]),
};

let dbCounter = 0;
async function libraryWithModels(): Promise<{ store: ModelStore; ids: string[] }> {
  const store = new ModelStore(`disco-models-test-${Date.now()}-${dbCounter++}`);
  const ids = [
    await store.save({ taskId: 'titanic', taskTitle: 'Titanic', metrics: { loss: 0.45, accuracy: 0.8, trainAccuracy: 0.78 }, createdAt: 1_000 }, files),
    await store.save({ taskId: 'mnist', taskTitle: 'MNIST', metrics: { loss: 0.1, accuracy: 0.97 }, createdAt: 2_000 }, files),
  ];
  return { store, ids };
}

async function render(store: ModelStore, attrs: { taskId?: string; for?: string } = {}): Promise<DiscoModelLibrary> {
  const el = await fixture<DiscoModelLibrary>(
    html`<disco-model-library .store=${store} task-id=${attrs.taskId ?? ''} for=${attrs.for ?? ''}></disco-model-library>`,
  );
  await el.loaded;
  return el;
}

const rows = (el: DiscoModelLibrary) => [...el.shadowRoot!.querySelectorAll<HTMLElement>('tr[part="model"]')];

describe('<disco-model-library>', () => {
  it('lists the models newest first, with task, date and metrics', async () => {
    const { store } = await libraryWithModels();
    const el = await render(store);
    const [first, second] = rows(el);
    expect(rows(el)).to.have.length(2);
    expect(first.textContent).to.contain('MNIST').and.contain('97.0 %');
    expect(second.textContent).to.contain('Titanic').and.contain('80.0 %').and.contain('78.0 %').and.contain('0.450').and.contain('4 B');
  });

  it('filters by task and refreshes when a model is saved elsewhere', async () => {
    const { store } = await libraryWithModels();
    const el = await render(store, { taskId: 'titanic' });
    expect(rows(el)).to.have.length(1);
    await store.save({ taskId: 'titanic', taskTitle: 'Titanic', metrics: {} }, files);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await el.loaded;
    expect(rows(el)).to.have.length(2);
  });

  it('fires disco-model-open and sets model-id on the element named by "for"', async () => {
    const { store, ids } = await libraryWithModels();
    const target = Object.assign(document.createElement('div'), { id: 'evaluator', modelId: '' });
    document.body.append(target);
    const el = await render(store, { for: 'evaluator' });
    setTimeout(() => rows(el)[1].querySelector<HTMLButtonElement>('[part="open-button"]')!.click());
    const event = await oneEvent(el, 'disco-model-open');
    expect(event.detail).to.deep.equal({ modelId: ids[0] });
    expect(target.modelId).to.equal(ids[0]);
    target.remove();
  });

  it('downloads model.json and weights.bin', async () => {
    const { store } = await libraryWithModels();
    const el = await render(store);
    const names: string[] = [];
    const onClick = (event: Event) => {
      const a = event.target as HTMLAnchorElement;
      if (a.download) {
        names.push(a.download);
        event.preventDefault();
      }
    };
    document.addEventListener('click', onClick, true);
    rows(el)[0].querySelector<HTMLButtonElement>('[part="download-button"]')!.click();
    await new Promise((resolve) => setTimeout(resolve, 50));
    document.removeEventListener('click', onClick, true);
    expect(names).to.deep.equal(['model.json', 'weights.bin']);
    expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent).to.contain('Downloading model.json and weights.bin');
  });

  it('deletes a model and fires disco-model-delete', async () => {
    const { store, ids } = await libraryWithModels();
    const el = await render(store);
    setTimeout(() => rows(el)[0].querySelector<HTMLButtonElement>('[part="delete-button"]')!.click());
    const event = await oneEvent(el, 'disco-model-delete');
    expect(event.detail).to.deep.equal({ modelId: ids[1] });
    await el.loaded;
    expect(rows(el)).to.have.length(1);
    expect(await store.get(ids[1])).to.equal(undefined);
  });

  it('shows the empty state and the error state', async () => {
    const empty = await render(new ModelStore(`disco-models-empty-${Date.now()}`));
    expect(empty.shadowRoot!.querySelector('[part="empty"]')!.textContent).to.contain('No trained model yet');
    const broken = new ModelStore(`disco-models-broken-${Date.now()}`);
    broken.list = () => Promise.reject(new Error('IndexedDB is not available in this browser.'));
    const el = document.createElement('disco-model-library');
    const event = oneEvent(el, 'disco-error');
    el.store = broken;
    document.body.append(el);
    expect((await event).detail).to.deep.equal({ code: 'storage', message: 'IndexedDB is not available in this browser.' });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.contain('IndexedDB is not available');
    el.remove();
  });

  it('passes an axe accessibility check, in light and dark themes', async () => {
    const { store } = await libraryWithModels();
    const el = await render(store);
    await expect(el).to.be.accessible();
    el.theme = 'dark';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
