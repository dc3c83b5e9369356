import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { DiscoEvent } from '../events.js';
import { parseTask, titanic, unenforcedSettings, validateTask } from '@disco/core';
import { FakeDiscoApi } from '../api/fake-api.js';
import type { DiscoTaskForm } from './task-form.element.js';
import { privacyPresets } from './privacy-presets.js';
import { issuesByField } from './task-draft.js';
import './task-form.js';

async function render(api = new FakeDiscoApi({ tasks: [titanic] }), adminToken = 'admin'): Promise<DiscoTaskForm> {
  return fixture<DiscoTaskForm>(html`<disco-task-form .api=${api} admin-token=${adminToken}></disco-task-form>`);
}

const control = <T extends HTMLElement = HTMLInputElement>(el: DiscoTaskForm, path: string) =>
  el.shadowRoot!.querySelector<T>(`#f-${path.replace(/\./g, '-')}`)!;
const errorOf = (el: DiscoTaskForm, path: string) => el.shadowRoot!.querySelector(`#f-${path.replace(/\./g, '-')}-errors`)!.textContent;

/** Types into a field as a user would: input, then leaving it. */
async function fill(el: DiscoTaskForm, path: string, value: string): Promise<void> {
  const input = control<HTMLInputElement | HTMLSelectElement>(el, path);
  input.value = value;
  input.dispatchEvent(new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true, composed: true }));
  input.dispatchEvent(new FocusEvent('focusout', { bubbles: true, composed: true }));
  await el.updateComplete;
}

async function fillMinimalTabular(el: DiscoTaskForm, id = 'heart'): Promise<void> {
  await fill(el, 'id', id);
  await fill(el, 'title', 'Heart disease');
  await fill(el, 'description', 'Predicts **heart disease** from a few measurements.');
  await fill(el, 'tabular.inputColumns', 'age, chol');
  await fill(el, 'tabular.outputColumn', 'target');
  await fill(el, 'tabular.labels', '0, 1');
}

describe('<disco-task-form>', () => {
  it('offers only the data types and strategies that a task may name', async () => {
    const el = await render();
    const options = (path: string) => [...control<HTMLSelectElement>(el, path).options].map((o) => o.value);
    expect(options('dataType')).to.deep.equal(['tabular', 'image', 'text']);
    expect(options('aggregation.strategy')).to.deep.equal(['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum', 'centered-clipping']);
  });

  it('starts from the schema defaults', async () => {
    const el = await render();
    expect(control(el, 'training.batchSize').value).to.equal('32');
    expect(control(el, 'training.rounds').value).to.equal('5');
    expect(control<HTMLSelectElement>(el, 'scheme').value).to.equal('federated');
  });

  it('creates a task and fires disco-task-create', async () => {
    const api = new FakeDiscoApi();
    const el = await render(api);
    await fillMinimalTabular(el);
    await fill(el, 'training.rounds', '3');
    setTimeout(() => el.shadowRoot!.querySelector<HTMLButtonElement>('[part="submit-button"]')!.click());
    const { detail } = await oneEvent<DiscoEvent<'disco-task-create'>>(el, 'disco-task-create');
    expect(detail.task.id).to.equal('heart');
    expect(detail.task.tabular).to.deep.equal({ inputColumns: ['age', 'chol'], outputColumn: 'target', labels: ['0', '1'] });
    expect(detail.task.training.rounds).to.equal(3);
    expect(api.tasks.get('heart')!.title).to.equal('Heart disease');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part="success"]')!.textContent).to.contain('was created');
  });

  it('validates inline, next to the field, and does not submit an invalid task', async () => {
    const api = new FakeDiscoApi();
    const el = await render(api);
    await fill(el, 'id', 'Not A Slug!');
    expect(errorOf(el, 'id')).to.contain('lowercase letters');
    expect(control(el, 'id').getAttribute('aria-invalid')).to.equal('true');
    expect(errorOf(el, 'title')).to.equal(''); // untouched fields stay quiet until submission
    expect(await el.submit()).to.equal(undefined);
    await el.updateComplete;
    expect(errorOf(el, 'title')).not.to.equal('');
    expect(errorOf(el, 'tabular.inputColumns')).not.to.equal('');
    expect(el.shadowRoot!.querySelector('[part="summary"]')!.textContent).to.contain('problems to fix');
    expect(api.tasks.size).to.equal(0);
  });

  describe('text tasks', () => {
    it('creates a valid language-model task: text data, the gpt architecture with its size and dropout, the context length', async () => {
      const api = new FakeDiscoApi();
      const el = await render(api);
      await fill(el, 'id', 'poems');
      await fill(el, 'title', 'Poems');
      await fill(el, 'description', 'A small language model trained on **poems**.');
      await fill(el, 'dataType', 'text');
      // Text has no columns, classes nor preprocessing steps; the architecture follows the data type.
      expect(el.shadowRoot!.querySelector('#f-tabular-inputColumns')).to.equal(null);
      expect(el.shadowRoot!.querySelector('.steps')).to.equal(null);
      expect([...control<HTMLSelectElement>(el, 'model.architecture').options].map((o) => o.value)).to.deep.equal(['gpt']);
      expect(control(el, 'text.contextLength').value).to.equal('128');
      await fill(el, 'text.contextLength', '64');
      await fill(el, 'model.gpt.size', 'nano');
      await fill(el, 'model.gpt.dropout', '0.1');
      const task = await el.submit();
      expect(task).not.to.equal(undefined);
      expect(parseTask(task!)).to.deep.equal(task);
      expect(task!.dataType).to.equal('text');
      expect(task!.text).to.deep.equal({ tokenizer: 'gpt2', contextLength: 64 });
      expect(task!.model).to.deep.equal({ source: 'builtin', architecture: 'gpt', gpt: { size: 'nano', dropout: 0.1 } });
      expect(task!.preprocessing).to.deep.equal([]);
      expect(api.tasks.get('poems')!.dataType).to.equal('text');
    });

    it('shows core’s message next to a context length the schema refuses', async () => {
      const el = await render(new FakeDiscoApi());
      await fill(el, 'dataType', 'text');
      await fill(el, 'text.contextLength', '2048');
      const expected = (validateTask(el.draft) as { errors: string[] }).errors.find((e) => e.startsWith('text.contextLength: '))!;
      expect(errorOf(el, 'text.contextLength')).to.equal(expected.slice('text.contextLength: '.length));
      expect(control(el, 'text.contextLength').getAttribute('aria-invalid')).to.equal('true');
    });
  });

  describe('asynchronous training', () => {
    it('creates a valid asynchronous federated task with K, the staleness bound and the weighting', async () => {
      const api = new FakeDiscoApi();
      const el = await render(api);
      await fillMinimalTabular(el);
      expect(control<HTMLSelectElement>(el, 'mode').value).to.equal('sync');
      expect(el.shadowRoot!.querySelector('#f-async-bufferSize')).to.equal(null);
      await fill(el, 'mode', 'async');
      expect(control(el, 'async.bufferSize').value).to.equal('4');
      await fill(el, 'async.bufferSize', '3');
      await fill(el, 'async.maxStaleness', '5');
      await fill(el, 'async.stalenessExponent', '1');
      let task = await el.submit();
      expect(parseTask(task!)).to.deep.equal(task);
      expect(task!.mode).to.equal('async');
      expect(task!.async).to.deep.equal({ bufferSize: 3, maxStaleness: 5, stalenessWeighting: 'polynomial', stalenessExponent: 1 });
      // The exponent is read by the polynomial weighting only: not offered, not sent, with the constant one.
      await fill(el, 'id', 'heart-constant');
      await fill(el, 'async.stalenessWeighting', 'constant');
      expect(el.shadowRoot!.querySelector('#f-async-stalenessExponent')).to.equal(null);
      task = await el.submit();
      expect(task!.async).to.deep.equal({ bufferSize: 3, maxStaleness: 5, stalenessWeighting: 'constant', stalenessExponent: 0.5 });
      expect(api.tasks.get('heart-constant')!.mode).to.equal('async');
    });

    it('does not offer the mode to decentralized or local tasks, and does not send it', async () => {
      const el = await render(new FakeDiscoApi());
      await fillMinimalTabular(el);
      await fill(el, 'mode', 'async');
      for (const scheme of ['decentralized', 'local']) {
        await fill(el, 'scheme', scheme);
        expect(el.shadowRoot!.querySelector('#f-mode'), scheme).to.equal(null);
        expect(el.shadowRoot!.querySelector('#f-async-bufferSize'), scheme).to.equal(null);
        expect(el.draft.mode, scheme).to.equal(undefined);
        expect(el.draft.async, scheme).to.equal(undefined);
        expect(validateTask(el.draft).ok, scheme).to.equal(true);
      }
    });

    it('does not offer asynchronous training with secure aggregation, giving core’s reason', async () => {
      const el = await render(new FakeDiscoApi());
      await fillMinimalTabular(el);
      el.shadowRoot!.querySelector<HTMLInputElement>('[name="privacy-preset"][value="secure"]')!.click();
      await el.updateComplete;
      const option = el.shadowRoot!.querySelector<HTMLOptionElement>('#f-mode option[value="async"]')!;
      expect(option.disabled).to.equal(true);
      expect(el.shadowRoot!.querySelector('#f-mode-hint')!.textContent).to.contain('Not available:').and.contain('not available with mode "async"');
    });

    it('shows the schema’s refusal of a setting next to it', async () => {
      const el = await render(new FakeDiscoApi());
      await fillMinimalTabular(el);
      await fill(el, 'mode', 'async');
      await fill(el, 'async.bufferSize', '0');
      const expected = (validateTask(el.draft) as { errors: string[] }).errors.find((e) => e.startsWith('async.bufferSize: '))!;
      expect(expected).not.to.equal(undefined);
      expect(errorOf(el, 'async.bufferSize')).to.equal(expected.slice('async.bufferSize: '.length));
      expect(await el.submit()).to.equal(undefined);
    });
  });

  describe('privacy', () => {
    const preset = (el: DiscoTaskForm, value: string) => el.shadowRoot!.querySelector<HTMLInputElement>(`[name="privacy-preset"][value="${value}"]`)!;
    const statement = (el: DiscoTaskForm) => el.shadowRoot!.querySelector('[part="privacy-statement"]')!.textContent.replace(/\s+/g, ' ');
    const choose = async (el: DiscoTaskForm, value: string) => {
      preset(el, value).click();
      await el.updateComplete;
    };

    it('starts with "None": no privacy setting, and the statement says what is not protected', async () => {
      const el = await render(new FakeDiscoApi());
      await fillMinimalTabular(el);
      expect(preset(el, 'none').checked).to.equal(true);
      expect(el.shadowRoot!.querySelectorAll('[name^="privacy."]')).to.have.length(0);
      expect(statement(el)).to.contain('Secure aggregation is off: the server can see your model change').and.contain('Differential privacy is off');
      const task = await el.submit();
      expect(task!.privacy).to.deep.equal({ secureAggregation: false, delta: 1e-5 });
    });

    it('offers the secure presets exactly when the task can take them, and they set exactly their settings', async () => {
      const el = await render(new FakeDiscoApi());
      await fillMinimalTabular(el);
      for (const name of ['secure', 'secure-dp'] as const) {
        // What this build refuses at creation is not offered (core's unenforcedSettings, the server's own list).
        const refused = unenforcedSettings({ privacy: { secureAggregation: true, delta: 1e-5, ...privacyPresets[name].privacy } });
        expect(preset(el, name).disabled).to.equal(refused.length > 0);
        if (refused.length) {
          expect(el.shadowRoot!.querySelector(`#preset-${name}-refused`)!.textContent).to.contain(refused[0].slice(refused[0].indexOf(': ') + 2));
          continue;
        }
        await choose(el, name);
        expect(el.draft.privacy).to.deep.equal({ delta: 1e-5, ...privacyPresets[name].privacy });
        expect(el.draft.minParticipants).to.equal(3);
        expect(statement(el)).to.contain('only sees your model change masked');
      }
    });

    it('disables the secure presets for a local task and for a strategy other than FedAvg, with core’s reason', async () => {
      const el = await render();
      await fill(el, 'scheme', 'local');
      expect(preset(el, 'secure').disabled).to.equal(true);
      expect(el.shadowRoot!.querySelector('#preset-secure-refused')!.textContent).to.contain('a local task has no aggregation to secure');
      expect(el.shadowRoot!.querySelector('#preset-secure-dp-refused')!.textContent).to.contain('a local task shares nothing to add noise to');
      expect(preset(el, 'none').disabled).to.equal(false);
      await fill(el, 'scheme', 'federated');
      await fill(el, 'aggregation.strategy', 'median');
      expect(el.shadowRoot!.querySelector('#preset-secure-refused')!.textContent).to.contain('"median" needs each update on its own, which secure aggregation hides; use "fedavg"');
    });

    it('does not offer secure aggregation for a federated task when the server says it would refuse it (PostgreSQL), with the reason', async () => {
      const api = new FakeDiscoApi({ federatedSecureAggregation: false });
      const el = await render(api);
      await fillMinimalTabular(el);
      await waitUntil(() => preset(el, 'secure').disabled, 'the secure presets are disabled once the server answered');
      expect(preset(el, 'secure-dp').disabled).to.equal(true);
      expect(el.shadowRoot!.querySelector('#preset-secure-refused')!.textContent).to.contain('this server does not run secure aggregation for federated tasks');
      el.shadowRoot!.querySelector<HTMLInputElement>('[name="privacy-preset"][value="custom"]')!.click();
      await el.updateComplete;
      expect(control(el, 'privacy.secureAggregation').disabled).to.equal(true);
      expect(el.shadowRoot!.querySelector('#f-privacy-secureAggregation-note')!.textContent).to.contain('Not available:').and.contain('PostgreSQL');
      expect(control(el, 'privacy.secureAggregation').getAttribute('aria-describedby')).to.contain('f-privacy-secureAggregation-note');
      // Set anyway (e.g. by setValues): never submitted, the reason shown next to the field.
      el.setValues({ 'privacy.secureAggregation': 'true' });
      expect(await el.submit()).to.equal(undefined);
      expect(api.tasks.size).to.equal(0);
      expect(errorOf(el, 'privacy.secureAggregation')).to.contain('this server does not run secure aggregation');
      // A decentralized task is not concerned.
      await fill(el, 'scheme', 'decentralized');
      expect(preset(el, 'secure').disabled).to.equal(false);
    });

    it('"Custom" shows every setting; central differential privacy is created as typed, and the statement follows', async () => {
      const api = new FakeDiscoApi();
      const el = await render(api);
      await fillMinimalTabular(el);
      await choose(el, 'custom');
      const fields = [...el.shadowRoot!.querySelectorAll<HTMLInputElement>('[name^="privacy."]')].map((i) => i.name);
      expect(fields).to.deep.equal(['privacy.secureAggregation', 'privacy.clippingNorm', 'privacy.noiseMultiplier', 'privacy.samplingRate', 'privacy.delta', 'privacy.budget.epsilon']);
      await fill(el, 'privacy.noiseMultiplier', '1.1');
      await fill(el, 'privacy.clippingNorm', '');
      // Noise without a clipping norm: core's reason, next to the field.
      expect(errorOf(el, 'privacy.clippingNorm')).to.equal('required when noiseMultiplier is set');
      await fill(el, 'privacy.clippingNorm', '1');
      await fill(el, 'privacy.budget.epsilon', '0.5');
      // A budget that one round exceeds: the server's own message (core's firstRoundBudgetIssue), before sending.
      expect(errorOf(el, 'privacy.budget.epsilon')).to.contain('one round costs ε =').and.contain('more than the budget ε = 0.5');
      await fill(el, 'privacy.budget.epsilon', '8');
      expect(statement(el)).to.contain('the server adds random (Gaussian) noise of standard deviation 1.1 × 1').and.contain('training stops before ε would exceed 8');
      const task = await el.submit();
      expect(task!.privacy).to.deep.equal({ secureAggregation: false, clippingNorm: 1, noiseMultiplier: 1.1, delta: 1e-5, budget: { epsilon: 8 } });
      expect(api.tasks.get('heart')!.privacy.noiseMultiplier).to.equal(1.1);
    });
  });

  describe('aggregation', () => {
    const hint = (el: DiscoTaskForm, path: string) => el.shadowRoot!.querySelector(`#f-${path.replace(/\./g, '-')}-hint`)!.textContent.replace(/\s+/g, ' ');
    const option = (el: DiscoTaskForm, value: string) => [...control<HTMLSelectElement>(el, 'aggregation.strategy').options].find((o) => o.value === value)!;

    it('explains each strategy and says what its parameter is', async () => {
      const el = await render();
      expect(hint(el, 'aggregation.strategy')).to.contain('one participant can move it without bound');
      expect(el.shadowRoot!.querySelector('#f-aggregation-parameter')).to.equal(null); // FedAvg reads none
      await fill(el, 'aggregation.strategy', 'trimmed-mean');
      expect(hint(el, 'aggregation.parameter')).to.equal('From 0 to below 0.5. Default 0.1.');
      await fill(el, 'aggregation.strategy', 'multi-krum');
      expect(hint(el, 'aggregation.strategy')).to.contain('n − f updates');
      expect(el.shadowRoot!.querySelector('label[for="f-aggregation-parameter"]')!.textContent).to.contain('Attackers tolerated f');
      await fill(el, 'aggregation.strategy', 'centered-clipping');
      expect(el.shadowRoot!.querySelector('label[for="f-aggregation-parameter"]')!.textContent).to.contain('Clipping radius τ');
    });

    it('creates a task with every aggregation setting as typed', async () => {
      const api = new FakeDiscoApi();
      const el = await render(api);
      await fillMinimalTabular(el);
      await fill(el, 'aggregation.strategy', 'multi-krum');
      await fill(el, 'aggregation.parameter', '1');
      await fill(el, 'aggregation.bucketing.size', '2');
      await fill(el, 'aggregation.serverOptimizer.name', 'adam');
      await fill(el, 'aggregation.serverOptimizer.learningRate', '0.02');
      await fill(el, 'aggregation.serverOptimizer.momentum', '0.8');
      await fill(el, 'aggregation.serverOptimizer.beta2', '0.95');
      await fill(el, 'aggregation.serverOptimizer.epsilon', '0.01');
      await fill(el, 'maxMissedRounds', '3');
      const task = await el.submit();
      expect(task!.aggregation).to.deep.equal({
        strategy: 'multi-krum',
        parameter: 1,
        bucketing: { size: 2 },
        serverOptimizer: { name: 'adam', learningRate: 0.02, momentum: 0.8, beta2: 0.95, epsilon: 0.01 },
      });
      expect(task!.maxMissedRounds).to.equal(3);
      expect(api.tasks.get('heart')!.aggregation.serverOptimizer!.name).to.equal('adam');
    });

    it('sends only the settings the chosen optimizer reads (Nesterov momentum)', async () => {
      const el = await render(new FakeDiscoApi());
      await fillMinimalTabular(el);
      await fill(el, 'aggregation.serverOptimizer.name', 'adam');
      await fill(el, 'aggregation.serverOptimizer.beta2', '0.95');
      await fill(el, 'aggregation.serverOptimizer.name', 'momentum');
      expect(el.shadowRoot!.querySelector('#f-aggregation-serverOptimizer-beta2')).to.equal(null);
      control(el, 'aggregation.serverOptimizer.nesterov').click();
      await el.updateComplete;
      await fill(el, 'aggregation.serverOptimizer.momentum', '0.9');
      const task = await el.submit();
      expect(task!.aggregation.serverOptimizer).to.deep.equal({ name: 'momentum', momentum: 0.9, nesterov: true });
    });

    it('shows core’s message next to a refused setting', async () => {
      const el = await render(new FakeDiscoApi());
      await fill(el, 'aggregation.strategy', 'trimmed-mean');
      await fill(el, 'aggregation.parameter', '0.6');
      expect(errorOf(el, 'aggregation.parameter')).to.equal('the fraction trimmed at each end must be below 0.5, got 0.6');
      await fill(el, 'aggregation.strategy', 'krum');
      expect(errorOf(el, 'aggregation.parameter')).to.equal('the number of Byzantine clients krum tolerates must be a whole number, got 0.6');
      await fill(el, 'aggregation.serverOptimizer.name', 'momentum');
      await fill(el, 'aggregation.serverOptimizer.momentum', '1');
      expect(errorOf(el, 'aggregation.serverOptimizer.momentum')).to.equal('must be below 1');
      expect(control(el, 'aggregation.serverOptimizer.momentum').getAttribute('aria-invalid')).to.equal('true');
    });

    it('offers bucketing to robust strategies only, with core’s reason', async () => {
      const el = await render();
      expect(control(el, 'aggregation.bucketing.size').disabled).to.equal(true);
      expect(hint(el, 'aggregation.bucketing.size')).to.contain('bucketing applies to a robust strategy; "fedavg" averages every update already');
      await fill(el, 'aggregation.strategy', 'median');
      expect(control(el, 'aggregation.bucketing.size').disabled).to.equal(false);
    });

    it('offers the server optimizer and the missed rounds to federated tasks only, with core’s reason', async () => {
      const el = await render();
      await fill(el, 'aggregation.serverOptimizer.name', 'momentum');
      await fill(el, 'scheme', 'decentralized');
      expect(control<HTMLSelectElement>(el, 'aggregation.serverOptimizer.name').disabled).to.equal(true);
      expect(hint(el, 'aggregation.serverOptimizer.name')).to.contain('only federated rounds apply a server optimizer, not decentralized ones');
      expect(el.shadowRoot!.querySelector('#f-maxMissedRounds')).to.equal(null);
      expect(el.draft.aggregation!.serverOptimizer).to.equal(undefined);
    });

    it('disables the robust strategies with core’s reason under secure aggregation or noise, and enables them without', async () => {
      const el = await render();
      expect(option(el, 'median').disabled).to.equal(false);
      el.shadowRoot!.querySelector<HTMLInputElement>('[name="privacy-preset"][value="secure"]')!.click();
      await el.updateComplete;
      expect(option(el, 'median').disabled).to.equal(true);
      expect(option(el, 'centered-clipping').disabled).to.equal(true);
      expect(el.shadowRoot!.querySelector('#f-aggregation-strategy-refused')!.textContent).to.contain(
        '"median" needs each update on its own, which secure aggregation hides; use "fedavg"',
      );
      el.shadowRoot!.querySelector<HTMLInputElement>('[name="privacy-preset"][value="custom"]')!.click();
      await el.updateComplete;
      control(el, 'privacy.secureAggregation').click();
      await el.updateComplete;
      await fill(el, 'privacy.noiseMultiplier', '1');
      expect(el.shadowRoot!.querySelector('#f-aggregation-strategy-refused')!.textContent).to.contain(
        '"krum" needs each update on its own, which differential privacy does not bound; use "fedavg"',
      );
      await fill(el, 'privacy.noiseMultiplier', '');
      expect(option(el, 'krum').disabled).to.equal(false);
      expect(el.shadowRoot!.querySelector('#f-aggregation-strategy-refused')).to.equal(null);
    });
  });

  it("shows the API's errors next to the field they concern", async () => {
    const el = await render();
    await fillMinimalTabular(el, 'titanic');
    const error = oneEvent<DiscoEvent<'disco-error'>>(el, 'disco-error');
    expect(await el.submit()).to.equal(undefined);
    expect((await error).detail.code).to.equal('api');
    await el.updateComplete;
    expect(errorOf(el, 'id')).to.contain('already exists');
    expect(control(el, 'id').getAttribute('aria-invalid')).to.equal('true');
    await fill(el, 'id', 'titanic-2');
    expect(errorOf(el, 'id')).to.equal('');
  });

  it('asks for the admin token and shows a refusal next to it', async () => {
    const el = await render(new FakeDiscoApi(), '');
    await fillMinimalTabular(el);
    const token = control(el, 'adminToken');
    token.value = 'wrong';
    token.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    expect(await el.submit()).to.equal(undefined);
    await el.updateComplete;
    expect(errorOf(el, 'adminToken')).to.contain('wrong admin token');
  });

  it('uploads a TF.js model with the task', async () => {
    const api = new FakeDiscoApi();
    const el = await render(api);
    await fillMinimalTabular(el);
    await fill(el, 'model.source', 'tfjs');
    const modelJson = { modelTopology: { class_name: 'Sequential' }, weightsManifest: [{ paths: ['./weights.bin'], weights: [] }] };
    const transfer = new DataTransfer();
    transfer.items.add(new File([JSON.stringify(modelJson)], 'model.json'));
    transfer.items.add(new File([new Uint8Array([1, 2, 3, 4])], 'weights.bin'));
    const upload = el.shadowRoot!.querySelector<HTMLInputElement>('[part="upload"]')!;
    upload.files = transfer.files;
    upload.dispatchEvent(new Event('change'));
    // The files are read asynchronously: wait until the form holds the upload (no fixed delay: a busy machine reads slowly).
    await waitUntil(() => (el as unknown as { upload?: unknown }).upload !== undefined, 'the upload was never read', { timeout: 10_000 });
    const task = await el.submit();
    expect(task!.model).to.deep.equal({ source: 'tfjs' });
    expect(api.uploads.get('heart')!.modelJson).to.deep.equal(modelJson);
    expect(api.uploads.get('heart')!.weights.byteLength).to.equal(4);
  });

  it('edits preprocessing steps on the input columns', async () => {
    const el = await render(new FakeDiscoApi());
    await fillMinimalTabular(el);
    const add = [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent === 'Add a step')!;
    add.click();
    await el.updateComplete;
    await fill(el, 'preprocessing.0.type', 'one-hot');
    expect([...control<HTMLSelectElement>(el, 'preprocessing.0.column').options].map((o) => o.value)).to.deep.equal(['', 'age', 'chol']);
    await fill(el, 'preprocessing.0.column', 'chol');
    await fill(el, 'preprocessing.0.categories', 'low, high');
    add.click();
    await el.updateComplete;
    await fill(el, 'preprocessing.1.type', 'min-max');
    await fill(el, 'preprocessing.1.column', 'age');
    await fill(el, 'preprocessing.1.min', '90');
    await fill(el, 'preprocessing.1.max', '10');
    expect(await el.submit()).to.equal(undefined);
    await el.updateComplete;
    expect(errorOf(el, 'preprocessing.1.max')).to.equal('must be greater than min');
    await fill(el, 'preprocessing.1.min', '0');
    const task = await el.submit();
    expect(task!.preprocessing).to.deep.equal([
      { type: 'one-hot', column: 'chol', categories: ['low', 'high'] },
      { type: 'min-max', column: 'age', min: 0, max: 10 },
    ]);
  });

  it('maps issues to fields, including nested and upload paths', () => {
    const fields = ['id', 'tabular.inputColumns', 'tabular.labels', 'preprocessing', 'preprocessing.0.column', 'model'];
    const map = issuesByField(
      ['tabular: required when dataType is "tabular"', 'preprocessing.0.column: "x" is not one', 'preprocessing.1.max: must be greater', 'weights.bin: 3 bytes', '(task): odd'],
      fields,
      { 'weights.bin': 'model' },
    );
    expect(map.get('tabular.inputColumns')).to.deep.equal(['required when dataType is "tabular"']);
    expect(map.get('preprocessing.0.column')).to.deep.equal(['"x" is not one']);
    expect(map.get('preprocessing')).to.deep.equal(['must be greater']);
    expect(map.get('model')).to.deep.equal(['weights.bin: 3 bytes']);
    expect(map.get('')).to.deep.equal(['(task): odd']);
  });

  it('passes an axe accessibility check, with errors shown, in light and dark themes', async () => {
    const el = await render();
    await el.submit();
    await el.updateComplete;
    await expect(el).to.be.accessible();
    el.theme = 'dark';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
