import { expect, fixture, html } from '@open-wc/testing';
import { titanic } from '@disco/core';
import { FakeDiscoApi } from '../api/fake-api.js';
import { configure, getConfig } from '../config.js';
import type { DiscoTrain } from '../train/train.element.js';
import '../train/train.js';
import { TrainingWorker } from './worker-client.js';
import { assetSettings, explainWorkerFailure, KIT_WORKER_FILE, resolveAssets, workerEntry, WorkerStartError } from './worker-start.js';

const base = 'https://partner.example/shop/page.html';
const emitted = () => new URL('https://partner.example/assets/training.worker-abc123.js');

describe('worker-start', () => {
  describe('resolveAssets', () => {
    it('uses the worker the bundler emitted when nothing is set, and leaves the wasm folder to TF.js', () => {
      expect(resolveAssets({}, base, emitted)).to.deep.equal({ worker: emitted() });
    });

    it('takes the kit worker and the wasm binaries from assetsUrl, relative to the page, with or without a trailing slash', () => {
      for (const assetsUrl of ['../vendor/disco', '../vendor/disco/']) {
        const { worker, wasmPaths } = resolveAssets({ assetsUrl }, base, emitted);
        expect(worker.href).to.equal(`https://partner.example/vendor/disco/${KIT_WORKER_FILE}`);
        expect(wasmPaths).to.equal('https://partner.example/vendor/disco/');
      }
    });

    it('lets workerUrl and wasmPaths win over assetsUrl', () => {
      const { worker, wasmPaths } = resolveAssets({ assetsUrl: 'https://cdn.example/disco/1.0/', workerUrl: '/pinned/worker.js', wasmPaths: '/pinned/wasm' }, base, emitted);
      expect(worker.href).to.equal('https://partner.example/pinned/worker.js');
      expect(wasmPaths).to.equal('https://partner.example/pinned/wasm/');
    });
  });

  describe('workerEntry', () => {
    it('starts a same-origin worker directly', () => {
      expect(workerEntry(new URL('https://partner.example/disco/disco-training.worker.js'), 'https://partner.example')).to.deep.equal({ direct: true });
    });

    it('starts a worker of another origin through a module that imports it', () => {
      const url = new URL('https://disco.example:8443/disco-training.worker.js');
      expect(workerEntry(url, 'https://partner.example')).to.deep.equal({ direct: false, shim: 'import "https://disco.example:8443/disco-training.worker.js";\n' });
    });
  });

  describe('assetSettings', () => {
    afterEach(() => {
      delete globalThis.DiscoConfig;
      configure({ workerUrl: undefined, assetsUrl: undefined });
    });

    it('reads window.DiscoConfig under configure(), and an element\'s assetsUrl over both', () => {
      globalThis.DiscoConfig = { assetsUrl: '/global/', workerUrl: '/global/worker.js' };
      expect(getConfig().assetsUrl).to.equal('/global/');
      configure({ workerUrl: '/configured/worker.js' });
      expect(assetSettings()).to.include({ workerUrl: '/configured/worker.js', assetsUrl: '/global/' });
      // The element's folder places both files: the page-wide worker and wasm settings give way.
      expect(assetSettings({ assetsUrl: '/own/' })).to.deep.equal({ workerUrl: undefined, assetsUrl: '/own/', wasmPaths: undefined });
    });
  });

  describe('explainWorkerFailure', () => {
    const url = new URL('https://disco.example/disco-training.worker.js');

    it('names the Content-Security-Policy directive that blocked the worker', async () => {
      const violation = { blockedURI: 'blob', effectiveDirective: 'worker-src' } as SecurityPolicyViolationEvent;
      const error = await explainWorkerFailure(url, violation);
      expect(error).to.be.instanceOf(WorkerStartError);
      expect(error.code).to.equal('worker');
      expect(error.message).to.equal(
        "The training worker could not start from https://disco.example/disco-training.worker.js: the page's Content-Security-Policy blocked blob (worker-src). Allow blob: in worker-src and https://disco.example in script-src (with 'wasm-unsafe-eval') and connect-src.",
      );
    });

    it('names the HTTP status of a missing script', async () => {
      const error = await explainWorkerFailure(url, undefined, () => Promise.resolve(new Response('', { status: 404 })));
      expect(error.message).to.equal(
        'The training worker could not start from https://disco.example/disco-training.worker.js: the server answered HTTP 404. Is the kit served there? Set workerUrl or assetsUrl to where it is.',
      );
    });
  });

  describe('the error path', () => {
    it('rejects the calls of a worker the browser refused at once, with code worker', async () => {
      const worker = new TrainingWorker(() => {
        throw new WorkerStartError('refused');
      });
      const error = await worker.validate([], titanic).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(WorkerStartError);
      expect((error as WorkerStartError).code).to.equal('worker');
    });

    it('<disco-train> with a worker-url that answers 404 shows the cause and fires a bubbling, composed disco-error', async () => {
      const el = await fixture<DiscoTrain>(
        html`<disco-train .api=${new FakeDiscoApi({ tasks: [titanic] })} task-id="titanic" worker-url="/nowhere/disco-training.worker.js"></disco-train>`,
      );
      await new Promise((resolve) => setTimeout(resolve));
      const seen = new Promise<CustomEvent<{ code: string; message: string }>>((resolve) => document.addEventListener('disco-error', resolve, { once: true }));
      el.files = [new File(['pclass,survived,name,sex,age\n1,1,A,female,29\n'], 'passengers.csv', { type: 'text/csv' })];
      const event = await seen;
      await el.updateComplete;

      expect(event.bubbles && event.composed).to.equal(true);
      expect(event.detail.code).to.equal('worker');
      expect(event.detail.message).to.equal(
        `The training worker could not start from ${location.origin}/nowhere/disco-training.worker.js: the server answered HTTP 404. Is the kit served there? Set workerUrl or assetsUrl to where it is.`,
      );
      expect(el.shadowRoot!.querySelector('[part~="error"]')?.textContent).to.include('the server answered HTTP 404');
      expect(el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="start-button"]')?.disabled).to.equal(true);
    });
  });
});
