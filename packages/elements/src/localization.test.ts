import { expect, fixture, html } from '@open-wc/testing';
import { parseTask, titanic } from '@disco/core';
import { FakeDiscoApi } from './api/fake-api.js';
import { ModelStore } from './library/model-store.js';
import type { DiscoModelLibrary } from './model-library/model-library.element.js';
import './model-library/model-library.js';
import './evaluate/evaluate.js';
import { getLocale, localeFor, localeReady } from './localization.js';
import { templates as fr } from './locales/fr.js';
import { describePrivacy, describeSpent } from './task/privacy-statement.js';
import type { DiscoTask } from './task/task.element.js';
import type { DiscoTaskForm } from './task-form/task-form.element.js';
import './task-form/task-form.js';
import type { DiscoTaskList } from './task-list/task-list.element.js';
import type { DiscoTrain } from './train/train.element.js';
import './task/task.js';
import './task-list/task-list.js';
import './train/train.js';

const text = (el: Element) => el.shadowRoot!.textContent.replace(/\s+/g, ' ');

async function renderAll(): Promise<{ list: DiscoTaskList; task: DiscoTask; train: DiscoTrain }> {
  const api = new FakeDiscoApi({ tasks: [titanic] });
  const root = await fixture<HTMLElement>(html`<div>
    <disco-task-list .api=${api}></disco-task-list>
    <disco-task .api=${api} task-id="titanic"></disco-task>
    <disco-train .api=${api} task-id="titanic"></disco-train>
  </div>`);
  const list = root.querySelector('disco-task-list')!;
  const task = root.querySelector('disco-task')!;
  const train = root.querySelector('disco-train')!;
  await Promise.all([list.loaded, task.loaded]);
  while (!train.loadedTask) await new Promise((resolve) => setTimeout(resolve, 10));
  await train.updateComplete;
  return { list, task, train };
}

async function setLang(lang: string): Promise<void> {
  document.documentElement.lang = lang;
  await new Promise((resolve) => setTimeout(resolve)); // the MutationObserver's callback
  await localeReady();
}

describe('localization', () => {
  after(() => setLang('en'));

  it('maps language tags onto the shipped languages', () => {
    expect(localeFor('fr')).to.equal('fr');
    expect(localeFor('fr-CA')).to.equal('fr');
    expect(localeFor('FR-be')).to.equal('fr');
    expect(localeFor('en-GB')).to.equal('en');
    expect(localeFor('de')).to.equal('en');
    expect(localeFor('')).to.equal('en');
  });

  it('renders French with <html lang="fr">', async () => {
    await setLang('fr');
    const { list, task, train } = await renderAll();

    expect(getLocale()).to.equal('fr');
    expect(text(list)).to.contain('Type de données').and.contain('Tous').and.contain('Données : Tableau (CSV)');
    expect(text(task)).to.contain('Ce qui est appris').and.contain('Les données nécessaires').and.contain('(valeurs : 0, 1)');
    expect(text(task)).to.contain('6 manches de 5 passages sur vos données');
    expect(text(train)).to.contain('Vos données').and.contain('Lancer l’entraînement').and.contain('Ajoutez des données pour commencer.');
    expect(text(train)).not.to.contain('Start training');

    const store = new ModelStore(`disco-localization-test-${Date.now()}`);
    await store.save({ taskId: 'titanic', taskTitle: 'Titanic', metrics: { loss: 0.45, accuracy: 0.8 }, createdAt: 1_000 }, { modelJson: { modelTopology: {}, weightsManifest: [] }, weightsBin: new Uint8Array(4) });
    const library = await fixture<DiscoModelLibrary>(html`<disco-model-library .store=${store}></disco-model-library>`);
    await library.reload();
    expect(text(library)).to.contain('Modèles entraînés dans ce navigateur').and.contain('Exactitude').and.contain('Supprimer');
    const evaluate = await fixture(html`<disco-evaluate .store=${store}></disco-evaluate>`);
    expect(text(evaluate)).to.contain('Quel modèle').and.contain('Tester le modèle').and.contain('Prédire');
  });

  it('renders English with <html lang="en">, and follows a change of lang', async () => {
    await setLang('en');
    const { list, task, train } = await renderAll();
    expect(text(list)).to.contain('Data type').and.contain('Data: Table (CSV)');
    expect(text(task)).to.contain('What is learned').and.contain('6 rounds of 5 passes over your data');
    expect(text(train)).to.contain('Start training').and.contain('Add data to start.');

    await setLang('fr');
    await train.updateComplete;
    expect(text(train)).to.contain('Lancer l’entraînement');
  });

  it('renders <disco-task-form> and the privacy statement in French', async () => {
    await setLang('fr');
    const form = await fixture<DiscoTaskForm>(html`<disco-task-form .api=${new FakeDiscoApi()} admin-token="admin"></disco-task-form>`);
    const label = (path: string) => form.shadowRoot!.querySelector(`label[for="f-${path.replace(/\./g, '-')}"]`)!.textContent.trim();

    expect(text(form)).to.contain('Créer la tâche').and.contain('Ce que les participants liront').and.not.contain('Create task');
    expect(label('aggregation.strategy')).to.equal('Stratégie');
    expect(label('aggregation.bucketing.size')).to.equal('Taille des paquets (facultatif)');
    expect(form.shadowRoot!.querySelector('#f-aggregation-bucketing-size-hint')!.textContent).to.contain('Indisponible : bucketing applies to a robust strategy'); // core's reason stays English
    expect(form.shadowRoot!.querySelector('[part="privacy-statement"]')!.textContent).to.contain(
      'L’agrégation sécurisée est désactivée : le serveur peut voir votre modification du modèle seule (mais toujours pas vos données).',
    );

    const secure = parseTask({ ...titanic, minParticipants: 5, privacy: { secureAggregation: true, clippingNorm: 1.5, noiseMultiplier: 2 } });
    expect(describePrivacy(secure).enforced.find((s) => s.setting === 'clippingNorm')!.text).to.equal(
      'Votre modification est écrêtée à la taille (norme L2) 1.5 sur votre appareil avant d’être masquée : aucun participant ne peut donc déplacer la somme de plus de 1.5.',
    );
    expect(describePrivacy(secure).enforced[0].text).to.contain('(au moins 3 quand 5 l’ont commencée)');
    expect(describeSpent({ epsilon: 2.5, delta: 1e-5, budget: 8 }, 3)).to.equal('Confidentialité dépensée après 3 manches : ε = 2.5 (à δ = 0.00001), sur un budget de ε = 8.');
  });

  it('has a French translation of every message of the sources', async () => {
    const sources = [
      'base/labels.ts',
      'base/states.ts',
      'base/dropzone.ts',
      'task-list/task-list.element.ts',
      'task/task.element.ts',
      'task/privacy-statement.ts',
      'task-form/task-form.element.ts',
      'task-form/privacy-presets.ts',
      'train/train.element.ts',
      'model-library/model-library.element.ts',
      'evaluate/evaluate.element.ts',
    ];
    const ids = new Set<string>();
    for (const source of sources) {
      const code = await (await fetch(new URL(`./${source}`, import.meta.url))).text();
      for (const [, id] of code.matchAll(/\bid: ["']([a-z-]+\.[a-z-]+)["']/g)) ids.add(id);
    }
    expect(ids.size).to.be.greaterThan(80);
    expect([...ids].filter((id) => !(id in fr))).to.deep.equal([]);
    expect(Object.keys(fr).filter((id) => !ids.has(id))).to.deep.equal([]);
  });
});
