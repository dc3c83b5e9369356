import { expect } from '@open-wc/testing';
import { parseTask, titanic } from '@disco/core';
import { FakeDiscoApi } from '../api/fake-api.js';
import { configure } from '../config.js';
import type { DiscoEventDetails } from '../events.js';
import { ModelStore } from '../library/model-store.js';
import type { DiscoTrain } from './train.element.js';
import './train.js';

configure({ wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' });

/** Every `step`-th passenger of the real titanic3 data from `offset`: disjoint shards for two participants. */
async function titanicShard(offset: number, step: number, rows: number): Promise<File> {
  const csv = await (await fetch('/packages/core/assets/titanic/titanic.csv')).text();
  const [header, ...lines] = csv.trim().split('\n');
  const picked = lines.filter((_, i) => i % step === offset).slice(0, rows);
  return new File([[header, ...picked].join('\n')], `shard-${offset}.csv`, { type: 'text/csv' });
}

const part = (el: DiscoTrain, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

describe('<disco-train> decentralized, two browsers’ worth of peers against a real server', () => {
  it('trains two rounds peer to peer, shows the peers and the bytes, and both end with the same model (a session check)', async function () {
    this.timeout(120_000);
    // A real `disco serve` (scripts/test-server.ts, started by web-test-runner.config.mjs): signalling over
    // tRPC, the models over WebRTC between the two elements' relayed connections.
    const { url } = (await (await fetch('/__disco/server.json')).json()) as { url: string };
    const stores = [0, 1].map((i) => new ModelStore(`disco-p2p-test-${Date.now()}-${i}`));
    const elements = stores.map((store) => {
      const el = Object.assign(document.createElement('disco-train'), { store, server: url });
      el.taskId = 'titanic-p2p';
      document.body.append(el);
      return el;
    });
    const rounds: DiscoEventDetails['disco-round-end'][][] = [[], []];
    const peersSeen: string[][] = [[], []];
    const errors: string[] = [];
    elements.forEach((el, i) => {
      el.addEventListener('disco-round-end', (event) => {
        rounds[i].push(event.detail);
        peersSeen[i].push(part(el, 'peers')?.textContent?.replace(/\s+/g, ' ').trim() ?? '');
      });
      el.addEventListener('disco-error', (event) => errors.push(event.detail.message));
    });
    try {
      elements[0].files = [await titanicShard(0, 2, 250)];
      elements[1].files = [await titanicShard(1, 2, 250)];
      const longTasks: number[] = [];
      const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
      observer.observe({ type: 'longtask' });
      await Promise.all(elements.map((el) => el.start()));
      observer.disconnect();
      expect(errors).to.deep.equal([]);
      for (const [i, el] of elements.entries()) {
        expect(el.phase, `peer ${i}`).to.equal('finished');
        expect(rounds[i].map((r) => [r.round, r.rounds, r.participants])).to.deep.equal([
          [1, 2, 2],
          [2, 2, 2],
        ]);
        expect(rounds[i][1].metrics.aggregated?.accuracy).to.be.a('number');
        expect(peersSeen[i][1]).to.match(/^Peers connected: 1;/);
        await el.updateComplete;
        expect(part(el, 'peers')!.textContent.replace(/\s+/g, ' ').trim()).to.match(/; exchanged with them: [\d.]+ KB sent, [\d.]+ KB received$/);
        expect(part(el, 'progress')!.querySelector<HTMLProgressElement>('#round-progress')!.value).to.equal(2);
        // A session check, not an accuracy test: 2 rounds of 2 epochs on 250 passengers each, scored on ~50 of them, cannot
        // tell a model from the women-survive rule. Decentralized Titanic accuracy is asserted (≥ 0.80, above the rule on
        // the seeded test split) by packages/api/test/peers-cli.test.ts and peers-titanic.test.ts.
        expect(el.result!.metrics.accuracy).to.be.within(0, 1);
      }
      // All-to-all mean aggregation: both participants end with the very same model.
      const [a, b] = await Promise.all(elements.map((el, i) => stores[i].get(el.result!.modelId)));
      expect(a!.scheme).to.equal('decentralized');
      expect([...a!.files.weightsBin]).to.deep.equal([...b!.files.weightsBin]);
      // The relay keeps the page responsive: training, framing and aggregation stay in the workers. Two peers'
      // workers, WebRTC and the server share 2 cores here: one task of 243 ms was seen once in CI (the page's
      // thread descheduled), so one task up to 500 ms is tolerated; a freeze (over 500 ms, or repeated) still fails.
      expect(longTasks.filter((d) => d > 500)).to.deep.equal([]);
      expect(longTasks.filter((d) => d > 200).length, `long tasks: ${longTasks.join(', ')} ms`).to.be.at.most(1);
    } finally {
      for (const el of elements) el.remove();
    }
  });
});

describe('<disco-train> decentralized with the fake API (in-memory signalling, real WebRTC)', () => {
  it('trains a round between two elements of the page', async function () {
    this.timeout(60_000);
    const task = parseTask({ ...titanic, id: 'p2p', scheme: 'decentralized', minParticipants: 2, training: { ...titanic.training, epochsPerRound: 1, rounds: 1 } });
    const api = new FakeDiscoApi({ tasks: [task] });
    const elements = [0, 1].map((i) => {
      const el = Object.assign(document.createElement('disco-train'), { api, store: new ModelStore(`disco-p2p-fake-${Date.now()}-${i}`) });
      el.taskId = 'p2p';
      document.body.append(el);
      return el;
    });
    try {
      elements[0].files = [await titanicShard(0, 4, 100)];
      elements[1].files = [await titanicShard(1, 4, 100)];
      const ends = elements.map((el) => new Promise<DiscoEventDetails['disco-round-end']>((resolve) => el.addEventListener('disco-round-end', (e) => resolve(e.detail))));
      await Promise.all(elements.map((el) => el.start()));
      for (const end of await Promise.all(ends)) expect([end.round, end.participants]).to.deep.equal([1, 2]);
      for (const el of elements) {
        expect(el.phase).to.equal('finished');
        expect(part(el, 'peers')!.textContent).to.match(/exchanged with them: [\d.]+ KB sent/);
      }
      await expect(elements[0]).to.be.accessible();
    } finally {
      for (const el of elements) el.remove();
    }
  });

  it('stops on demand: the session ends stopped, the model trained so far is saved', async function () {
    this.timeout(60_000);
    const task = parseTask({ ...titanic, id: 'p2p-solo', scheme: 'decentralized', minParticipants: 1, training: { ...titanic.training, epochsPerRound: 50, rounds: 3 } });
    const el = Object.assign(document.createElement('disco-train'), { api: new FakeDiscoApi({ tasks: [task] }), store: new ModelStore(`disco-p2p-stop-${Date.now()}`) });
    el.taskId = 'p2p-solo';
    document.body.append(el);
    try {
      el.files = [await titanicShard(0, 4, 100)];
      el.addEventListener('disco-epoch-end', () => el.stop(), { once: true });
      const ended = new Promise<DiscoEventDetails['disco-train-end']>((resolve) => el.addEventListener('disco-train-end', (e) => resolve(e.detail)));
      await el.start();
      const detail = await ended;
      expect(detail.stopped).to.equal(true);
      expect(detail.modelId).not.to.equal('');
      expect(el.phase).to.equal('finished');
    } finally {
      el.remove();
    }
  });
});

describe('<disco-train> decentralized, refusals', () => {
  it('explains that decentralized training needs a server when the API cannot introduce peers', async () => {
    const task = { ...titanic, id: 'p2p', scheme: 'decentralized' as const };
    // An API without the signalling port (`peers` is optional in DiscoApi).
    const api = Object.assign(new FakeDiscoApi({ tasks: [task] }), { peers: undefined });
    const el = Object.assign(document.createElement('disco-train'), { api, store: new ModelStore(`disco-p2p-refusal-${Date.now()}`) });
    el.taskId = 'p2p';
    document.body.append(el);
    el.files = [await titanicShard(0, 10, 40)];
    const errors: DiscoEventDetails['disco-error'][] = [];
    el.addEventListener('disco-error', (event) => errors.push(event.detail));
    await el.start();
    expect(errors).to.have.length(1);
    expect(errors[0].code).to.equal('api');
    expect(errors[0].message).to.contain('needs a Disco server');
    expect(el.phase).to.equal('failed');
    el.remove();
  });

  it('refuses a scheme that is not the task’s with a clear error', async () => {
    const el = Object.assign(document.createElement('disco-train'), { api: new FakeDiscoApi({ tasks: [titanic] }), store: new ModelStore(`disco-p2p-refusal-${Date.now()}`) });
    el.taskId = 'titanic';
    el.scheme = 'decentralized';
    document.body.append(el);
    el.files = [await titanicShard(0, 10, 40)];
    const errors: DiscoEventDetails['disco-error'][] = [];
    el.addEventListener('disco-error', (event) => errors.push(event.detail));
    await el.start();
    expect(errors.map((e) => e.code)).to.deep.equal(['unsupported-scheme']);
    expect(errors[0].message).to.contain('federated task').and.contain('not decentralized');
    expect(el.phase).to.equal('failed');
    el.remove();
  });
});
