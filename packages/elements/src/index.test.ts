import { expect } from '@open-wc/testing';
import * as Disco from './index.js';

describe('@disco/elements', () => {
  it('registers every element', () => {
    for (const tag of ['disco-task-list', 'disco-task', 'disco-train', 'disco-evaluate', 'disco-task-form', 'disco-model-library'])
      expect(customElements.get(tag), tag).to.be.a('function');
    expect(customElements.get('disco-train')).to.equal(Disco.DiscoTrain);
  });

  it('tolerates a second registration of the same name', () => {
    class Other extends Disco.DiscoElement {}
    const warn = console.warn;
    const warnings: unknown[] = [];
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      Disco.DiscoTrain.define('disco-train');
      Other.define('disco-train');
    } finally {
      console.warn = warn;
    }
    expect(customElements.get('disco-train')).to.equal(Disco.DiscoTrain);
    expect(warnings).to.have.length(1);
  });

  it('emits typed events that bubble out of shadow roots', () => {
    const host = document.createElement('div');
    const shadow = host.attachShadow({ mode: 'open' });
    const inner = document.createElement('disco-task-list');
    shadow.append(inner);
    document.body.append(host);
    let seen: Disco.DiscoEventDetails['disco-task-select'] | undefined;
    document.addEventListener('disco-task-select', (event) => (seen = event.detail), { once: true });
    inner.emit('disco-task-select', { taskId: 'titanic' });
    host.remove();
    expect(seen).to.deep.equal({ taskId: 'titanic' });
  });

  it('keeps page-wide settings', () => {
    Disco.configure({ wasmPaths: '/wasm/' });
    expect(Disco.getConfig().wasmPaths).to.equal('/wasm/');
  });
});
