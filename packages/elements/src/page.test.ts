import { expect, fixture, html } from '@open-wc/testing';
import { mnist, titanic } from '@disco/core';
import { FakeDiscoApi } from './api/fake-api.js';
import { configure } from './config.js';
import { ModelStore } from './library/model-store.js';
import './index.js';

configure({ wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' });

/** A research portal's page holding all six elements, as the demo composes them. */
async function portal(theme: 'light' | 'dark'): Promise<HTMLElement> {
  const api = new FakeDiscoApi({ tasks: [titanic, mnist], participants: { titanic: 3 } });
  const store = new ModelStore(`disco-page-test-${Date.now()}-${theme}`);
  await store.save(
    { taskId: 'titanic', taskTitle: titanic.title, task: titanic, metrics: { loss: 0.45, accuracy: 0.8 }, createdAt: 1_000 },
    { modelJson: { modelTopology: {}, weightsManifest: [{ paths: ['./weights.bin'], weights: [] }] }, weightsBin: new Uint8Array(4) },
  );
  const page = await fixture<HTMLElement>(html`<main>
    <h1>Lumen Research Consortium</h1>
    <section aria-labelledby="projects"><h2 id="projects">Projects</h2><disco-task-list .api=${api} theme=${theme}></disco-task-list></section>
    <disco-task .api=${api} task-id="titanic" theme=${theme}></disco-task>
    <section aria-labelledby="take-part">
      <h2 id="take-part">Take part</h2>
      <disco-train .api=${api} .store=${store} task-id="titanic" theme=${theme}></disco-train>
    </section>
    <section aria-labelledby="test"><h2 id="test">Test a model</h2><disco-evaluate .api=${api} .store=${store} task-id="titanic" theme=${theme}></disco-evaluate></section>
    <section aria-labelledby="models"><h2 id="models">My models</h2><disco-model-library .store=${store} theme=${theme}></disco-model-library></section>
    <section aria-labelledby="create"><h2 id="create">Start a project</h2><disco-task-form .api=${api} theme=${theme}></disco-task-form></section>
  </main>`);
  const train = page.querySelector('disco-train')!;
  const csv = 'PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n1,0,3,"Braund, Mr. Owen",male,22,1,0,A/5 21171,7.25,,S\n2,1,1,"Cumings, Mrs. John",female,38,1,0,PC 17599,71.28,C85,C\n';
  train.files = [new File([csv], 'passengers.csv', { type: 'text/csv' })];
  await Promise.all([
    page.querySelector('disco-task')!.loaded,
    train.filesChecked,
    page.querySelector('disco-evaluate')!.loaded,
    page.querySelector('disco-model-library')!.loaded,
  ]);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the CSV preview
  for (const el of page.querySelectorAll<HTMLElement & { updateComplete: Promise<unknown> }>('*')) if ('updateComplete' in el) await el.updateComplete;
  return page;
}

describe('all six elements on one page', () => {
  it('passes an axe accessibility check (unique landmarks, heading order), in light and dark themes', async function () {
    this.timeout(60_000);
    for (const theme of ['light', 'dark'] as const) {
      const page = await portal(theme);
      expect(page.querySelector('disco-train')!.phase).to.equal('ready');
      await expect(page).to.be.accessible();
      page.remove();
    }
  });
});
