import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { buildModel, evaluateModel, generateTokens, initBackend, loadDataFiles, loadTokenizer, modelToArtifacts, parseTask, titanic, type Task } from '@disco/core';
import { configure } from '../config.js';
import type { DiscoEvent } from '../events.js';
import { ModelStore } from '../library/model-store.js';
import type { DiscoEvaluate } from './evaluate.element.js';
import './evaluate.js';

const wasmPaths = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
configure({ wasmPaths });

/** The smallest language model: gpt nano (3 layers, 48 dimensions) over 16 tokens, untrained but seeded. */
const poems: Task = parseTask({
  id: 'poems',
  title: 'Poems',
  description: 'A language model of poems.',
  dataType: 'text',
  text: { contextLength: 16 },
  model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano' } },
  scheme: 'local',
});

const sonnet = 'Shall I compare thee to a summer’s day? Thou art more lovely and more temperate: rough winds do shake the darling buds of May.';

let store: ModelStore;
let modelId: string;

let shared: DiscoEvaluate | undefined;

/**
 * The element of the tests: one for the whole file (not a fixture, which is removed after each test), so that its
 * worker, with TF.js and the tokenizer loaded, serves every test.
 */
async function render(): Promise<DiscoEvaluate> {
  if (!shared) {
    shared = Object.assign(document.createElement('disco-evaluate'), { store });
    shared.modelId = modelId;
    document.body.append(shared);
    await shared.updateComplete;
  }
  shared.theme = undefined;
  shared.files = [];
  await shared.loaded;
  return shared;
}

const q = <T extends HTMLElement = HTMLElement>(el: DiscoEvaluate, selector: string) => el.shadowRoot!.querySelector<T>(selector)!;

/** Types into a field of the prompt box as a user would. */
function type(el: DiscoEvaluate, selector: string, value: string): void {
  const input = q<HTMLInputElement | HTMLTextAreaElement>(el, selector);
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
}

describe('<disco-evaluate> for language models', () => {
  before(async function () {
    this.timeout(120_000);
    await initBackend({ wasmPaths });
    store = new ModelStore(`disco-evaluate-lm-test-${Date.now()}`);
    const model = buildModel(poems);
    modelId = await store.save({ taskId: poems.id, taskTitle: poems.title, task: poems, metrics: {} }, await modelToArtifacts(model));
    model.dispose();
  });

  after(() => shared?.remove());

  it('offers the prompt box to a language model only, and no prediction', async () => {
    const el = await render();
    expect(q(el, '[part="generate"]')).not.to.equal(null);
    expect(q(el, '[part="predict-button"]')).to.equal(null);
    expect(q<HTMLInputElement>(el, '#eval-data-files').accept).to.equal('.txt,text/plain');
    const classifier = await fixture<DiscoEvaluate>(html`<disco-evaluate .store=${store} .task=${titanic}></disco-evaluate>`);
    await classifier.loaded;
    expect(classifier.shadowRoot!.querySelector('[part="generate"]')).to.equal(null);
  });

  it('streams the continuation into the page token by token, as the same model generates it, and fires disco-generate', async () => {
    const el = await render();
    type(el, '#prompt', 'Shall I compare thee');
    type(el, '#gen-maxTokens', '40');
    type(el, '#gen-temperature', '1');
    type(el, '#gen-topK', '50');
    type(el, '#gen-seed', '7');
    await el.updateComplete;
    // What the page shows while it streams: the continuation grows over several renders.
    const seen = new Set<string>();
    let streaming = Infinity; // when the first text arrived
    const observer = new MutationObserver(() => {
      const shown = el.shadowRoot!.querySelector('[part="generation"] .continuation')?.textContent ?? '';
      if (shown) streaming = Math.min(streaming, performance.now());
      seen.add(shown);
    });
    observer.observe(el.shadowRoot!, { subtree: true, characterData: true, childList: true });
    // While tokens stream (after the one-off load of the model into the worker), no task blocks the page.
    const longTasks: number[] = [];
    const long = new PerformanceObserver((list) => list.getEntries().forEach((e) => e.startTime >= streaming && longTasks.push(e.duration)));
    long.observe({ type: 'longtask' });
    setTimeout(() => q(el, '[part="generate-button"]').click());
    const { detail } = await oneEvent<DiscoEvent<'disco-generate'>>(el, 'disco-generate');
    long.disconnect();
    await el.updateComplete;
    observer.disconnect();
    expect(detail.prompt).to.equal('Shall I compare thee');
    expect(detail.stopped).to.equal(false);
    expect(detail.tokens).to.be.within(1, 40);
    expect([...seen].filter((t) => t !== '' && t !== detail.text).length, 'partial texts rendered').to.be.greaterThan(0);
    expect(q(el, '[part="generation"] .prompt-echo').textContent).to.equal('Shall I compare thee');
    expect(q(el, '[part="generation"] .continuation').textContent).to.equal(detail.text);
    expect(longTasks.filter((d) => d > 200)).to.deep.equal([]);

    // The same model, prompt and settings on this page give the same tokens: the text is their decoding.
    const tokenizer = await loadTokenizer('gpt2');
    const stored = await store.get(modelId);
    const { modelFromArtifacts } = await import('@disco/core');
    const model = await modelFromArtifacts(stored!.files.modelJson, stored!.files.weightsBin, { task: poems });
    const tokens: number[] = [];
    for await (const token of generateTokens(model, tokenizer.encode('Shall I compare thee'), { maxTokens: 40, temperature: 1, topK: 50, seed: 7 })) {
      if (token === tokenizer.endOfText) break;
      tokens.push(token);
    }
    model.dispose();
    expect(detail.text).to.equal(tokenizer.decode(tokens));
  });

  it('stops on demand, keeping the text so far', async () => {
    const el = await render();
    type(el, '#gen-maxTokens', '1000');
    await el.updateComplete;
    // Not empty: an untrained GPT tends to repeat its last token, and after an empty prompt (<|endoftext|>) that ends the text.
    const generating = el.generate('Once upon a time');
    await new Promise<void>((resolve) => {
      const poll = () => (el.generated.prompt === 'Once upon a time' && el.generated.tokens > 0 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    await el.updateComplete;
    q(el, '[part="stop-button"]').click();
    const result = await generating;
    expect(result.stopped).to.equal(true);
    expect(result.tokens).to.be.below(1000);
    await el.updateComplete;
    expect(q(el, '[role="status"]').textContent).to.contain(`Stopped after ${result.tokens} tokens.`);
  });

  it('refuses settings out of range with a message saying what to change', async () => {
    const el = await render();
    type(el, '#gen-temperature', '5');
    await el.updateComplete;
    let error: unknown;
    await el.generate('x').catch((e: unknown) => (error = e));
    expect(String(error)).to.contain('Temperature: from 0 (always the likeliest token) to 2.');
    type(el, '#gen-temperature', '1');
  });

  it('reports the perplexity on the user’s .txt files, as core computes it', async () => {
    const el = await render();
    const file = new File([sonnet], 'sonnet.txt', { type: 'text/plain' });
    el.files = [file];
    await el.updateComplete;
    setTimeout(() => q(el, '[part="test-button"]').click());
    const { detail } = await oneEvent<DiscoEvent<'disco-evaluate-end'>>(el, 'disco-evaluate-end');
    await el.updateComplete;
    const stored = await store.get(modelId);
    const { modelFromArtifacts } = await import('@disco/core');
    const model = await modelFromArtifacts(stored!.files.modelJson, stored!.files.weightsBin, { task: poems });
    const expected = evaluateModel(model, await loadDataFiles([file], poems));
    model.dispose();
    expect(detail.tokens).to.equal(expected.tokens);
    expect(detail.perplexity!).to.be.closeTo(expected.perplexity!, expected.perplexity! * 1e-4);
    // An untrained model hesitates between about the whole vocabulary.
    expect(detail.perplexity!).to.be.above(10_000);
    expect(q(el, '[part="perplexity"]').textContent).to.equal(detail.perplexity!.toFixed(1));
  });

  it('passes an axe accessibility check with generated text, in light and dark themes', async () => {
    const el = await render();
    type(el, '#gen-maxTokens', '5');
    type(el, '#gen-temperature', '0');
    await el.updateComplete;
    await el.generate('To be');
    await el.updateComplete;
    await expect(el).to.be.accessible();
    el.theme = 'dark';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
