import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { holdOut, mnist, parseTabular, parseTask, titanic, womenSurviveAccuracy, type Task } from '@disco/core';
import { FakeDiscoApi } from '../api/fake-api.js';
import { configure } from '../config.js';
import type { DiscoEvent, DiscoEventDetails } from '../events.js';
import { ModelStore } from '../library/model-store.js';
import type { DiscoTrain } from './train.element.js';
import './train.js';

configure({ wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' });

let titanicCsv: string | undefined;
/** The first `rows` passengers of the real titanic3 data, shuffled so that all classes appear. */
async function titanicFile(rows: number, name = 'titanic.csv'): Promise<File> {
  titanicCsv ??= await (await fetch('/packages/core/assets/titanic/titanic.csv')).text();
  const [header, ...lines] = titanicCsv.trim().split('\n');
  const picked = lines.filter((_, i) => i % Math.max(1, Math.floor(lines.length / rows)) === 0).slice(0, rows);
  return new File([[header, ...picked].join('\n')], name, { type: 'text/csv' });
}

async function png(width: number, height: number, name: string): Promise<File> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#fff';
  context.fillRect(2, 2, width / 2, height / 2);
  return new File([await canvas.convertToBlob({ type: 'image/png' })], name, { type: 'image/png' });
}

let dbCounter = 0;
const freshStore = () => new ModelStore(`disco-train-test-${Date.now()}-${dbCounter++}`);

async function render(task: Task, api = new FakeDiscoApi({ tasks: [task] }), store = freshStore()): Promise<DiscoTrain> {
  const el = await fixture<DiscoTrain>(html`<disco-train .api=${api} .store=${store} task-id=${task.id}></disco-train>`);
  await new Promise((resolve) => setTimeout(resolve));
  await el.updateComplete;
  return el;
}

const q = <T extends Element = HTMLElement>(el: DiscoTrain, selector: string) => el.shadowRoot!.querySelector<T & Element>(selector)!;
const fileItems = (el: DiscoTrain) => [...el.shadowRoot!.querySelectorAll<HTMLElement>('[part~="file"]')];

/** Collects the `disco-*` events of an element by name. */
type Recorded<K extends keyof DiscoEventDetails> = { [P in K]: DiscoEventDetails[P][] };
function record<K extends keyof DiscoEventDetails>(el: HTMLElement, ...names: K[]): Recorded<K> {
  const seen = Object.fromEntries(names.map((n) => [n, []])) as unknown as Recorded<K>;
  for (const name of names) el.addEventListener(name, (event) => (seen[name] as unknown[]).push((event as CustomEvent).detail));
  return seen;
}

describe('<disco-train>', () => {
  describe('data checks', () => {
    it('shows the error next to a CSV with the wrong columns, and Start stays disabled', async () => {
      const el = await render(titanic);
      const good = await titanicFile(40, 'good.csv');
      const transfer = new DataTransfer();
      transfer.items.add(good);
      transfer.items.add(new File(['a,b,c\n1,2,3\n'], 'wrong.csv', { type: 'text/csv' }));
      q(el, '[part="dropzone"]').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      await oneEvent<DiscoEvent<'disco-data-change'>>(el, 'disco-data-change');
      await el.filesChecked;
      const [first, second] = fileItems(el);
      expect(first.textContent).to.contain('good.csv').and.contain('40 examples');
      expect(second.getAttribute('part')).to.equal('file invalid');
      expect(second.querySelector('[part="file-error"]')!.textContent).to.contain('wrong.csv').and.contain('Pclass');
      expect(q<HTMLButtonElement>(el, '[part="start-button"]').disabled).to.equal(true);
      expect(el.phase).to.equal('invalid');
      let error: unknown;
      await el.start().catch((e: unknown) => (error = e));
      expect(String(error)).to.contain('problems');
    });

    it('refuses an image of the wrong size and a file that is not an image', async () => {
      const el = await render(mnist);
      const changed = oneEvent<DiscoEvent<'disco-data-change'>>(el, 'disco-data-change');
      el.files = [await png(28, 28, 'ok.png'), await png(20, 20, 'small.png'), new File(['not an image'], 'notes.png', { type: 'image/png' })];
      expect((await changed).detail).to.deep.equal({ files: 3, valid: false });
      await el.filesChecked;
      const errors = fileItems(el).map((li) => li.querySelector('[part="file-error"]')?.textContent ?? '');
      expect(errors[1]).to.contain('small.png').and.contain('20×20');
      expect(errors[2]).to.contain('notes.png');
      expect(q<HTMLButtonElement>(el, '[part="start-button"]').disabled).to.equal(true);
      expect(el.shadowRoot!.querySelectorAll('.thumbs img')).to.have.length(3);
    });

    it('previews the first rows of a CSV and enables Start for good data', async () => {
      const el = await render(titanic);
      el.files = [await titanicFile(30)];
      await el.filesChecked;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await el.updateComplete;
      expect(q(el, '[part="preview"] thead').textContent).to.contain('Survived').and.contain('Pclass');
      expect(el.shadowRoot!.querySelectorAll('[part="preview"] tbody tr')).to.have.length(5);
      expect(q<HTMLButtonElement>(el, '[part="start-button"]').disabled).to.equal(false);
    });

    it('previews a semicolon-separated CSV in columns, quoted values whole', async () => {
      const el = await render(titanic);
      el.files = [new File(['Name;Age;Fare\n"Allen; Miss. Elisabeth";29;211,34\nBrown;2;151,55\n'], 'semicolons.csv', { type: 'text/csv' })];
      await el.filesChecked;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await el.updateComplete;
      const cells = (selector: string) => [...el.shadowRoot!.querySelectorAll(selector)].map((c) => c.textContent);
      expect(cells('[part="preview"] th')).to.deep.equal(['Name', 'Age', 'Fare']);
      expect(cells('[part="preview"] tbody tr:first-child td')).to.deep.equal(['Allen; Miss. Elisabeth', '29', '211,34']);
      expect(el.shadowRoot!.querySelectorAll('[part="preview"] tbody tr')).to.have.length(2);
    });

    it('shows the error when the task cannot be loaded', async () => {
      const el = document.createElement('disco-train');
      const event = oneEvent<DiscoEvent<'disco-error'>>(el, 'disco-error');
      el.api = new FakeDiscoApi();
      el.taskId = 'nope';
      document.body.append(el);
      expect((await event).detail.message).to.equal('task "nope" does not exist');
      await el.updateComplete;
      expect(q(el, '[role="alert"]').textContent).to.contain('task "nope" does not exist');
      el.remove();
    });
  });

  describe('local training in the worker', () => {
    let el: DiscoTrain;
    let store: ModelStore;
    let events: Recorded<'disco-train-start' | 'disco-epoch-end' | 'disco-train-end'>;
    const longTasks: number[] = [];

    before(async function () {
      this.timeout(120_000);
      store = freshStore();
      // Not a fixture: it must outlive each test of this block (fixtures are removed after every test).
      el = Object.assign(document.createElement('disco-train'), { api: new FakeDiscoApi({ tasks: [{ ...titanic, scheme: 'local' }] }), store });
      el.taskId = 'titanic';
      el.epochs = 8;
      document.body.append(el);
      events = record(el, 'disco-train-start', 'disco-epoch-end', 'disco-train-end');
      // All 1,309 passengers: the task's validation split (20 %, seed 42) then holds out the seeded test split that the
      // other Titanic tests score (262 passengers), where the model must beat 0.80 and the women-survive rule (0.813).
      el.files = [await titanicFile(1309)];
      await el.filesChecked;
      const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
      observer.observe({ type: 'longtask' });
      await el.start();
      observer.disconnect();
    });

    after(() => el.remove());

    it('fires disco-train-start, then disco-epoch-end for every epoch', () => {
      expect(events['disco-train-start']).to.deep.equal([{ taskId: 'titanic', scheme: 'local', files: 1 }]);
      expect(events['disco-epoch-end'].map((e) => e.epoch)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(events['disco-epoch-end'][0].epochs).to.equal(8);
      expect(events['disco-epoch-end'][0].metrics.loss).to.be.a('number');
    });

    it('beats 0.80 and the women-survive rule on the held-out passengers, and fires disco-train-end with the saved model id', async () => {
      const [end] = events['disco-train-end'];
      expect(end.stopped).to.equal(false);
      const heldOut = holdOut(parseTabular(titanicCsv!, titanic), titanic.training.validationSplit, titanic.training.seed).validation!;
      expect(heldOut.count).to.equal(262);
      expect(end.metrics.accuracy).to.be.at.least(0.8).and.above(womenSurviveAccuracy(heldOut));
      const saved = await store.get(end.modelId);
      expect(saved!.taskId).to.equal('titanic');
      expect(saved!.metrics.accuracy).to.equal(end.metrics.accuracy);
      expect(saved!.files.weightsBin.byteLength).to.be.greaterThan(1000);
    });

    it('keeps the main thread responsive: no long task over 200 ms', () => {
      expect(PerformanceObserver.supportedEntryTypes).to.include('longtask');
      expect(longTasks.filter((d) => d > 200)).to.deep.equal([]);
    });

    it('shows the progress, the charts, the result and the log', () => {
      expect(q<HTMLProgressElement>(el, '#epoch-progress').value).to.equal(8);
      expect(el.shadowRoot!.querySelectorAll('canvas')).to.have.length(2);
      expect(q(el, '[part="result"]').textContent).to.contain('Accuracy on held-out data');
      expect(q(el, '[part="log"]').textContent).to.contain('Training finished.');
    });

    it('passes an axe accessibility check, in light and dark themes', async () => {
      await expect(el).to.be.accessible();
      el.theme = 'dark';
      await el.updateComplete;
      await expect(el).to.be.accessible();
    });
  });

  it('stops on demand and still saves the model trained so far', async () => {
    const el = await render({ ...titanic, scheme: 'local' });
    el.epochs = 200;
    el.files = [await titanicFile(300)];
    await el.filesChecked;
    el.addEventListener('disco-epoch-end', () => el.stop(), { once: true });
    const ended = oneEvent<DiscoEvent<'disco-train-end'>>(el, 'disco-train-end');
    await el.start();
    const { detail } = await ended;
    expect(detail.stopped).to.equal(true);
    expect(detail.modelId).not.to.equal('');
    expect(el.phase).to.equal('finished');
  });

  it('trains collaboratively through the API and fires disco-round-end', async () => {
    // One participant makes a round here (the fake closes rounds by the server's rule, at the task's minimum).
    const task = parseTask({ ...titanic, minParticipants: 1, training: { ...titanic.training, epochsPerRound: 2, rounds: 2 } });
    const api = new FakeDiscoApi({ tasks: [task] });
    const el = await render(task, api);
    const events = record(el, 'disco-round-end', 'disco-train-end');
    el.files = [await titanicFile(300)];
    await el.filesChecked;
    await el.start();
    expect(events['disco-round-end'].map((e) => [e.round, e.rounds, e.participants])).to.deep.equal([
      [1, 2, 1],
      [2, 2, 1],
    ]);
    expect(events['disco-round-end'][0].metrics.loss).to.be.a('number');
    expect(events['disco-train-end'][0].metrics.accuracy).to.be.a('number');
    // The worker reports the page port's own count of the traffic, not one of its own.
    const federation = await api.federation();
    expect(events['disco-train-end'][0].stats).to.deep.equal({ ...federation.stats });
    expect(federation.stats.bytesSent).to.be.greaterThan(0);
    expect(q(el, '[part="participants"]').textContent).to.contain('1');
    expect(el.shadowRoot!.querySelectorAll('canvas')).to.have.length(4);
  });
});

describe('<disco-train> with privacy', () => {
  it('shows the ε spent after each round, live, and says plainly when the privacy budget stops training', async () => {
    // Central DP (the fake clips and noises the sum, as the server does); z = 2 costs ε = 2.526, 3.645, 4.544… after
    // rounds 1, 2, 3 (δ = 1e-5), so a budget of 4 lets 2 of the 5 rounds run.
    const task = parseTask({
      ...titanic,
      id: 'titanic-dp',
      minParticipants: 1,
      training: { ...titanic.training, epochsPerRound: 1, rounds: 5 },
      privacy: { clippingNorm: 1, noiseMultiplier: 2, budget: { epsilon: 4 } },
    });
    const el = await render(task);
    const events = record(el, 'disco-round-end', 'disco-train-end');
    const live: Promise<string>[] = [];
    el.addEventListener('disco-round-end', () => live.push(el.updateComplete.then(() => q(el, '[part="privacy"]').textContent.replace(/\s+/g, ' ').trim())));
    el.files = [await titanicFile(200)];
    await el.filesChecked;
    await el.start();

    expect(events['disco-round-end'].map((e) => [e.round, Number(e.epsilon?.toFixed(3)), e.delta])).to.deep.equal([
      [1, 2.526, 1e-5],
      [2, 3.645, 1e-5],
    ]);
    expect(await Promise.all(live)).to.deep.equal([
      'Privacy spent after 1 round: ε = 2.526 (at δ = 0.00001), of a budget of ε = 4.',
      'Privacy spent after 2 rounds: ε = 3.645 (at δ = 0.00001), of a budget of ε = 4.',
    ]);
    const [end] = events['disco-train-end'];
    expect([end.stopped, end.budgetExhausted, Number(end.epsilon?.toFixed(3)), end.delta, end.secureAggregation]).to.deep.equal([false, true, 3.645, 1e-5, undefined]);
    expect(q(el, '[part="budget"]').textContent).to.equal(
      "Training stopped: this task's privacy budget ε = 4 is spent (ε = 3.645 after 2 rounds). One more round would exceed it, so no further round starts.",
    );
    expect(q(el, '[role="status"]').textContent).to.equal('Training stopped: the privacy budget is spent.');
    expect(q(el, '[part="privacy"]').textContent).not.to.contain('Secure aggregation');
    await expect(el).to.be.accessible();
  });
});

describe('<disco-train> with secure aggregation', () => {
  it('three elements train a secure round through the worker relay and say that secure aggregation was on', async function () {
    this.timeout(120_000);
    const task = parseTask({
      ...titanic,
      id: 'titanic-secure',
      minParticipants: 3,
      training: { ...titanic.training, epochsPerRound: 1, rounds: 1 },
      privacy: { secureAggregation: true, clippingNorm: 1 },
    });
    const api = new FakeDiscoApi({ tasks: [task] });
    const elements = await Promise.all([0, 1, 2].map(() => render(task, api)));
    const ends = elements.map((el) => record(el, 'disco-round-end', 'disco-train-end'));
    await Promise.all(elements.map(async (el, i) => (el.files = [await titanicFile(150, `part-${i}.csv`)])));
    await Promise.all(elements.map((el) => el.filesChecked));
    // During training the task's setting is shown; at the end, what the session reported.
    const training = oneEvent<DiscoEvent<'disco-train-start'>>(elements[0], 'disco-train-start');
    const started = elements.map((el) => el.start());
    await training;
    await elements[0].updateComplete;
    expect(q(elements[0], '[part="privacy"]').textContent).to.contain('Secure aggregation: on');
    await Promise.all(started);
    for (const [i, el] of elements.entries()) {
      expect(ends[i]['disco-round-end'].map((e) => [e.round, e.participants, e.epsilon])).to.deep.equal([[1, 3, undefined]]);
      expect(ends[i]['disco-train-end'][0].secureAggregation).to.equal(true);
      expect(q(el, '[part="privacy"]').textContent.replace(/\s+/g, ' ')).to.contain('Secure aggregation: on (your model change leaves this device masked).');
    }
    expect((await api.listRounds('titanic-secure')).find((r) => r.number === 1)).to.include({ phase: 'closed', modelVersion: 1, submitted: 3 });
  });
});

describe('<disco-train> driven without UI', () => {
  it('takes files before its task has loaded, then start() trains', async () => {
    const api = new FakeDiscoApi({ tasks: [{ ...titanic, scheme: 'local' }], latencyMs: 150 });
    const el = Object.assign(document.createElement('disco-train'), { api, store: freshStore(), epochs: 1 });
    el.taskId = 'titanic';
    document.body.append(el);
    el.files = [await titanicFile(120)];
    const ended = oneEvent<DiscoEvent<'disco-train-end'>>(el, 'disco-train-end');
    await el.start();
    expect((await ended).detail.stopped).to.equal(false);
    expect(el.result!.modelId).not.to.equal('');
    el.remove();
  });

  it('start() waits for the task: server and task id set after it was called', async () => {
    const el = Object.assign(document.createElement('disco-train'), { store: freshStore(), epochs: 1 });
    document.body.append(el);
    const loaded = oneEvent<DiscoEvent<'disco-task-load'>>(el, 'disco-task-load');
    const started = el.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(el.phase).to.equal('empty');
    el.api = new FakeDiscoApi({ tasks: [{ ...titanic, scheme: 'local' }], latencyMs: 30 });
    el.taskId = 'titanic';
    el.files = [await titanicFile(120)];
    expect((await loaded).detail.task.id).to.equal('titanic');
    expect(el.task!.id).to.equal('titanic');
    await started;
    expect(el.result?.stopped).to.equal(false);
    el.remove();
  });

  it('start() rejects with a clear error when the task cannot be loaded', async () => {
    const el = Object.assign(document.createElement('disco-train'), { api: new FakeDiscoApi({ latencyMs: 20 }), store: freshStore() });
    el.taskId = 'nope';
    document.body.append(el);
    el.files = [await titanicFile(20)];
    let error: (Error & { code?: string }) | undefined;
    await el.start().catch((e: Error) => (error = e));
    expect(error?.message).to.equal('Training cannot start: the task "nope" could not be loaded (task "nope" does not exist).');
    expect(error?.code).to.equal('not-found');
    el.remove();
  });

  it('stop() while start() waits for the task gives up quietly', async () => {
    const el = Object.assign(document.createElement('disco-train'), { store: freshStore() });
    document.body.append(el);
    const started = el.start();
    el.stop();
    await started;
    expect(el.phase).to.equal('empty');
    el.remove();
  });

  it('stop() right after start() stops without training', async () => {
    const el = await render({ ...titanic, scheme: 'local' });
    el.files = [await titanicFile(120)];
    const started = el.start();
    el.stop();
    await started;
    expect(el.phase).not.to.equal('training');
    expect(el.result).to.equal(undefined);
  });

  it('keeps training when moved in the page', async () => {
    const el = await render({ ...titanic, scheme: 'local' });
    el.epochs = 3;
    el.files = [await titanicFile(150)];
    const elsewhere = document.createElement('section');
    document.body.append(elsewhere);
    el.addEventListener('disco-epoch-end', () => elsewhere.append(el), { once: true });
    await el.start();
    expect(el.result?.stopped).to.equal(false);
    expect(el.phase).to.equal('finished');
    elsewhere.remove();
  });

});
