import { expect, fixture, html } from '@open-wc/testing';
import { Chart } from 'chart.js';
import { parseTask, titanic, type FederationApi, type RoundState, type Task, type TrainingEvent } from '@disco/core';
import { FakeDiscoApi } from '../api/fake-api.js';
import { configure } from '../config.js';
import { ModelStore } from '../library/model-store.js';
import { localeReady } from '../localization.js';
import type { DiscoTrain } from './train.element.js';
import { observeFederation } from './training-controller.js';
import './train.js';

configure({ wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' });

/** A small language-model task: `.txt` files, the gpt architecture. */
const poems: Task = parseTask({
  id: 'poems',
  title: 'Poems',
  description: 'A language model of poems.',
  dataType: 'text',
  text: { contextLength: 8 },
  model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano' } },
  training: { epochsPerRound: 2, rounds: 2, batchSize: 4 },
  scheme: 'local',
});

/** An asynchronous federated language-model task (FedBuff, K = 2). */
const asyncPoems: Task = parseTask({ ...poems, id: 'poems-async', scheme: 'federated', mode: 'async', async: { bufferSize: 2, maxStaleness: 4 } });

let dbCounter = 0;
const freshStore = () => new ModelStore(`disco-train-text-test-${Date.now()}-${dbCounter++}`);

/**
 * A training worker that answers with a script: every file is good (10 examples), and training sends `events`
 * then a (meaningless) model. It stands in for core's training, so that what the element renders from a given
 * stream of events is checked exactly (the real worker is exercised by train.test.ts).
 */
function scriptedWorker(events: TrainingEvent[]): string {
  const source = `
    const events = ${JSON.stringify(events)};
    self.onmessage = ({ data }) => {
      if (data.type === 'validate') self.postMessage({ type: 'validated', id: data.id, reports: data.files.map((f) => ({ file: f.path, examples: 10 })) });
      if (data.type === 'train') {
        self.postMessage({ type: 'examples', id: data.id, count: 10 });
        for (const event of events) self.postMessage({ type: 'event', id: data.id, event });
        self.postMessage({ type: 'trained', id: data.id, model: { modelJson: { modelTopology: {} }, weightsBin: new Uint8Array(8) }, samples: 10 });
      }
    };`;
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

async function render(task: Task, workerUrl?: string): Promise<DiscoTrain> {
  const el = await fixture<DiscoTrain>(
    html`<disco-train .api=${new FakeDiscoApi({ tasks: [task] })} .store=${freshStore()} task-id=${task.id} worker-url=${workerUrl ?? ''}></disco-train>`,
  );
  await new Promise((resolve) => setTimeout(resolve));
  await el.updateComplete;
  return el;
}

const q = <T extends Element = HTMLElement>(el: DiscoTrain, selector: string) => el.shadowRoot!.querySelector<T & Element>(selector)!;
const text = (node: Element | null) => (node?.textContent ?? '').replace(/\s+/g, ' ').trim();

const done = (extra: object = {}): TrainingEvent => ({ type: 'done', metrics: { loss: Math.log(140), perplexity: 140 }, stats: { bytesSent: 0, bytesReceived: 0 }, stopped: false, ...extra });

describe('<disco-train> for language models', () => {
  it('accepts .txt files (checked by core’s text loader) and refuses another type with its own message', async () => {
    const el = await render(poems);
    expect(q<HTMLInputElement>(el, '#data-files').accept).to.equal('.txt,text/plain');
    expect(text(q(el, '[part="dropzone"] p'))).to.contain('text files (.txt)');
    el.files = [
      new File(['Shall I compare thee to a summer’s day?\nThou art more lovely and more temperate.\n'], 'sonnet.txt', { type: 'text/plain' }),
      new File(['x,y\n1,2\n'], 'table.csv', { type: 'text/csv' }),
    ];
    await el.filesChecked;
    const items = [...el.shadowRoot!.querySelectorAll('[part~="file"]')];
    // 18 GPT-2 tokens in windows of 8: 3 windows (the last one padded).
    expect(text(items[0])).to.contain('sonnet.txt').and.contain('examples');
    expect(items[0].getAttribute('part')).to.equal('file');
    expect(items[1].getAttribute('part')).to.equal('file invalid');
    expect(text(items[1].querySelector('[part="file-error"]'))).to.equal('table.csv: not a text file (.txt). This task learns from plain text files.');
    expect(el.phase).to.equal('invalid');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await el.updateComplete;
    expect(text(q(el, '[part="preview"] pre'))).to.contain('Shall I compare thee');

    el.files = [new File(['Rough winds do shake the darling buds of May.\n'], 'may.txt', { type: 'text/plain' })];
    await el.filesChecked;
    expect(el.phase).to.equal('ready');
    expect(q<HTMLButtonElement>(el, '[part="start-button"]').disabled).to.equal(false);
  });

  it('charts perplexity (training and validation, on a log scale) from the epoch events, not accuracy', async () => {
    const perplexities = [2000, 700, 240];
    const events: TrainingEvent[] = perplexities.map((p, i) => ({
      type: 'epoch',
      epoch: i + 1,
      epochs: 3,
      loss: Math.log(p),
      perplexity: p,
      valLoss: Math.log(p * 1.2),
      valPerplexity: p * 1.2,
    }));
    const el = await render(poems, scriptedWorker([...events, done()]));
    el.files = [new File(['To be, or not to be: that is the question.'], 'hamlet.txt')];
    await el.filesChecked;
    await el.start();
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('#epoch-accuracy')).to.equal(null);
    const chart = Chart.getChart(q<HTMLCanvasElement>(el, '#epoch-perplexity'))!;
    expect(chart.data.datasets.map((d) => d.data)).to.deep.equal([perplexities, perplexities.map((p) => p * 1.2)]);
    expect(chart.options.scales!['y']!.type).to.equal('logarithmic');
    expect(text(q(el, '#epoch-perplexity-caption'))).to.equal('Perplexity per epoch');
    expect(text(q(el, '#epoch-perplexity-summary'))).to.equal('latest: training 240.0, validation 288.0');
    expect(text(q(el, '[part="result"] .result'))).to.contain('Perplexity on held-out text: 140.0');
  });

  it('shows, for an asynchronous task, the model version and this participant’s staleness from the round events, in English and French', async () => {
    const round = (version: number, staleness: number): TrainingEvent => ({
      type: 'round',
      round: version,
      rounds: 4,
      metrics: { loss: Math.log(300 / version), valLoss: Math.log(320 / version), valPerplexity: 320 / version, aggregated: { loss: Math.log(305 / version), valLoss: Math.log(310 / version), valPerplexity: 310 / version } },
      participants: 3,
      modelVersion: version,
      staleness,
    });
    const epoch = (version: number): TrainingEvent => ({ type: 'epoch', epoch: 1, epochs: 1, round: version, loss: Math.log(300 / version), perplexity: 300 / version });
    const el = await render(asyncPoems, scriptedWorker([epoch(1), round(1, 0), epoch(3), round(3, 2), done({ updatesAccepted: 2, versions: 3 })]));
    el.files = [new File(['To be, or not to be: that is the question.'], 'hamlet.txt')];
    await el.filesChecked;
    await el.start();
    await el.updateComplete;
    expect(text(q(el, '[part="async"]'))).to.equal('Model version: 3. Your last update arrived 2 versions late (staleness); it counts a little less.');
    expect(text(q(el, 'label[for="round-progress"]'))).to.equal('Version');
    expect(text(q(el, '#round-perplexity-caption'))).to.equal('Perplexity per version');
    expect(text(q(el, '[part="log"]'))).to.contain('Version 3 of 4: the model is at version 3; your update arrived 2 versions late.');
    const chart = Chart.getChart(q<HTMLCanvasElement>(el, '#round-perplexity'))!;
    expect(chart.data.datasets[2].data).to.deep.equal([310, 310 / 3]);
    expect(text(q(el, '#round-perplexity-summary'))).to.equal('latest: yours 106.7, all participants 103.3');

    const setLang = async (lang: string) => {
      document.documentElement.lang = lang;
      await new Promise((resolve) => setTimeout(resolve)); // the MutationObserver's callback
      await localeReady();
      await el.updateComplete;
    };
    await setLang('fr');
    try {
      expect(text(q(el, '[part="async"]'))).to.equal('Version du modèle : 3. Votre dernière mise à jour est arrivée avec 2 versions de retard (staleness) ; elle compte un peu moins.');
      expect(text(q(el, '#round-perplexity-caption'))).to.equal('Perplexité par version');
    } finally {
      await setLang('en');
    }
  });

  it('trains a GPT on a .txt file in the worker and charts its real perplexity, which falls', async () => {
    const el = await render(poems);
    el.epochs = 3;
    el.files = [new File([Array.from({ length: 6 }, () => 'Shall I compare thee to a summer’s day? Thou art more lovely and more temperate.').join('\n')], 'sonnet.txt')];
    await el.filesChecked;
    await el.start();
    await el.updateComplete;
    const chart = Chart.getChart(q<HTMLCanvasElement>(el, '#epoch-perplexity'))!;
    const training = chart.data.datasets[0].data as number[];
    expect(training).to.have.length(3);
    expect(training.every((p) => Number.isFinite(p) && p > 1)).to.equal(true);
    expect(training[2]).to.be.below(training[0]);
    expect(el.result!.metrics.perplexity).to.be.a('number');
    expect(el.result!.modelId).not.to.equal('');
  });

  it('shows the version and the staleness of a real asynchronous session on the fake server', async () => {
    const task = parseTask({ ...titanic, id: 'titanic-async', minParticipants: 1, mode: 'async', async: { bufferSize: 1 }, training: { ...titanic.training, epochsPerRound: 1, rounds: 2 } });
    const el = await render(task);
    const csv = (await (await fetch('/packages/core/assets/titanic/titanic.csv')).text()).trim().split('\n').slice(0, 120).join('\n');
    el.files = [new File([csv], 'titanic.csv', { type: 'text/csv' })];
    await el.filesChecked;
    await el.start();
    await el.updateComplete;
    expect(el.result!.stopped).to.equal(false);
    expect(text(q(el, '[part="async"]'))).to.match(/^Model version: 2\b/).and.contain('staleness');
  });

  it('reads the version, the buffer and the staleness from what the server answers the worker’s client', async () => {
    const states: RoundState[] = [];
    const staleness: (number | undefined)[] = [];
    const state = (modelVersion: number, submitted: number): RoundState => ({
      taskId: 'poems-async',
      round: modelVersion + 1,
      phase: 'open',
      modelVersion,
      participants: 3,
      submitted,
      deadline: null,
      mode: 'async',
      bufferSize: 2,
    });
    let watcher: ((s: RoundState) => void) | undefined;
    const port = {
      join: () => Promise.resolve({ participantId: 'p', token: 't', task: asyncPoems, state: state(4, 1) }),
      heartbeat: () => Promise.resolve(state(5, 0)),
      submitUpdate: (_token: string, round: number) => Promise.resolve({ accepted: true as const, round, staleness: 1 }),
      watchRounds: (_task: string, _token: string, listener: (s: RoundState) => void) => {
        watcher = listener;
        return () => undefined;
      },
      stats: { bytesSent: 12, bytesReceived: 34 },
    } as unknown as FederationApi;
    const observed = observeFederation(port, (s) => states.push(s), (r) => staleness.push(r.staleness));
    const heard: RoundState[] = [];
    observed.watchRounds('poems-async', 't', (s) => heard.push(s));
    expect((await observed.join('poems-async')).state.modelVersion).to.equal(4);
    expect((await observed.heartbeat('t')).modelVersion).to.equal(5);
    expect(await observed.submitUpdate('t', 6, new Uint8Array(1))).to.deep.equal({ accepted: true, round: 6, staleness: 1 });
    watcher!(state(6, 1));
    expect(states.map((s) => [s.modelVersion, s.submitted])).to.deep.equal([
      [4, 1],
      [5, 0],
      [6, 1],
    ]);
    expect(heard.map((s) => s.modelVersion)).to.deep.equal([6]);
    expect(staleness).to.deep.equal([1]);
    expect(observed.stats).to.deep.equal({ bytesSent: 12, bytesReceived: 34 });
  });
});
