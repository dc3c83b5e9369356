import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { DiscoEvent } from '../events.js';
import { mnist, parseTask, titanic } from '@disco/core';
import { closedRound } from '@disco/core/testing';
import { FakeDiscoApi } from '../api/fake-api.js';
import type { DiscoTask } from './task.element.js';
import { describePrivacy } from './privacy-statement.js';
import './task.js';

async function render(taskId: string, api = new FakeDiscoApi({ tasks: [titanic, mnist] })): Promise<DiscoTask> {
  const el = await fixture<DiscoTask>(html`<disco-task .api=${api} task-id=${taskId}></disco-task>`);
  await el.loaded;
  return el;
}

const text = (el: DiscoTask, part: string) => el.shadowRoot!.querySelector(`[part~="${part}"]`)!.textContent.replace(/\s+/g, ' ');

describe('<disco-task>', () => {
  it('explains a tabular task: columns, predicted column, example, scheme', async () => {
    const el = await render('titanic');
    expect(text(el, 'title')).to.equal('Titanic: who survived?');
    expect(text(el, 'description')).to.contain('Predict whether a passenger');
    expect(text(el, 'data')).to.contain('Pclass, Sex, Age').and.contain('Survived (values: 0, 1)');
    expect(text(el, 'sample')).to.contain('PassengerId,Survived');
    expect(text(el, 'scheme')).to.contain('Federated').and.contain('6 rounds of 5 passes');
  });

  it('renders markdown, sanitized', async () => {
    const el = await render('titanic');
    expect(el.shadowRoot!.querySelectorAll('.format table th')).to.have.length(3);
    const evil = await fixture<DiscoTask>(
      html`<disco-task .task=${{ ...titanic, description: '[click](javascript:alert(1)) **bold**' }}></disco-task>`,
    );
    await evil.loaded;
    const description = evil.shadowRoot!.querySelector('[part="description"]')!;
    expect(description.querySelector('strong')!.textContent).to.equal('bold');
    expect(description.querySelector('a')?.getAttribute('href') ?? '').not.to.contain('javascript');
  });

  it('explains an image task: size and labels', async () => {
    const el = await render('mnist');
    expect(text(el, 'data')).to.contain('28 × 28 pixels, grayscale');
    expect(el.shadowRoot!.querySelectorAll('.labels li')).to.have.length(10);
  });

  it('explains a text task and the mode of a federated task: synchronous, or asynchronous with its buffer and staleness rules', async () => {
    const poems = parseTask({
      ...titanic,
      id: 'poems',
      tabular: undefined,
      preprocessing: [],
      sample: undefined,
      dataFormat: '',
      dataType: 'text',
      text: { contextLength: 64 },
      model: { source: 'builtin', architecture: 'gpt' },
      mode: 'async',
      async: { bufferSize: 3, maxStaleness: 5 },
    });
    const el = await render('poems', new FakeDiscoApi({ tasks: [titanic, poems] }));
    expect(text(el, 'data')).to.contain('Plain text files (.txt, UTF-8), read 64 tokens at a time');
    expect(text(el, 'mode')).to.contain('Asynchronous training: nobody waits for the others.').and.contain('every 3 updates').and.contain('counts (1 + s)^−0.5 as much').and.contain('more than 5 versions old is refused');
    const sync = await render('titanic');
    expect(text(sync, 'mode')).to.contain('Synchronous rounds: each round waits for its participants, or closes after 120 seconds');
    const local = await fixture<DiscoTask>(html`<disco-task .task=${{ ...titanic, scheme: 'local' }}></disco-task>`);
    await local.loaded;
    expect(local.shadowRoot!.querySelector('[part="mode"]')).to.equal(null);
  });

  it('states what leaves the device and that secure aggregation and differential privacy are off, and promises nothing more', async () => {
    const plain = await render('titanic');
    expect(text(plain, 'privacy')).to.contain('Your files never leave your device').and.contain('Secure aggregation is off').and.contain('Differential privacy is off');
    expect(describePrivacy(titanic).enforced).to.deep.equal([]);
    expect(plain.shadowRoot!.querySelector('[part="privacy-spent"]')).to.equal(null);
    expect(describePrivacy({ ...titanic, scheme: 'local' }).leavesDevice).to.contain('Nothing leaves your device');
  });

  it('states what a task with differential privacy enforces, and the ε spent so far from its rounds', async () => {
    const noisy = parseTask({ ...titanic, id: 'titanic-dp', privacy: { clippingNorm: 1, noiseMultiplier: 1.1, budget: { epsilon: 8 } } });
    const rounds = [closedRound(1, { epsilon: 3.2, delta: 1e-5 }), closedRound(2, { epsilon: 4.61234, delta: 1e-5 }), closedRound(3, { phase: 'failed', modelVersion: null })].reverse();
    const el = await render('titanic-dp', new FakeDiscoApi({ tasks: [noisy], rounds: { 'titanic-dp': rounds } }));
    const privacy = text(el, 'privacy');
    expect(privacy).to.contain('The server clips every participant\'s change to size (L2 norm) 1');
    expect(privacy).to.contain('the server adds random (Gaussian) noise of standard deviation 1.1 × 1').and.contain('not from the server');
    expect(privacy).to.contain('training stops before ε would exceed 8');
    expect(privacy).to.contain('Secure aggregation is off');
    expect(text(el, 'privacy-spent')).to.equal('Privacy spent after 2 rounds: ε = 4.612 (at δ = 0.00001), of a budget of ε = 8.');
    await expect(el).to.be.accessible();
  });

  it('fires disco-task-load with the task, then exposes it as `task`', async () => {
    const el = document.createElement('disco-task');
    const loaded = oneEvent<DiscoEvent<'disco-task-load'>>(el, 'disco-task-load');
    el.api = new FakeDiscoApi({ tasks: [titanic], latencyMs: 20 });
    el.taskId = 'titanic';
    document.body.append(el);
    expect(el.task).to.equal(undefined);
    const { detail } = await loaded;
    expect(detail.task.id).to.equal('titanic');
    expect(el.task).to.equal(detail.task);
    // A task object set directly is the task too, and is announced the same way.
    const again = oneEvent<DiscoEvent<'disco-task-load'>>(el, 'disco-task-load');
    el.task = mnist;
    expect(el.task).to.equal(mnist);
    expect((await again).detail.task).to.equal(mnist);
    await el.updateComplete;
    expect(text(el, 'title')).to.equal(mnist.title);
    el.remove();
  });

  it('shows the error and fires disco-error for an unknown task', async () => {
    const el = document.createElement('disco-task');
    const event = oneEvent<DiscoEvent<'disco-error'>>(el, 'disco-error');
    el.api = new FakeDiscoApi();
    el.taskId = 'nope';
    document.body.append(el);
    expect((await event).detail).to.deep.equal({ code: 'not-found', message: 'task "nope" does not exist' });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.contain('task "nope" does not exist');
    el.remove();
  });

  it('passes an axe accessibility check, in light and dark themes', async () => {
    const el = await render('titanic');
    await expect(el).to.be.accessible();
    el.theme = 'dark';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
