import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { DiscoEvent } from '../events.js';
import { DiscoApiError, mnist, titanic } from '@disco/core';
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

  it('states what leaves the device and that secure aggregation is off, and promises nothing more', async () => {
    const plain = await render('titanic');
    expect(text(plain, 'privacy')).to.contain('Your files never leave your device').and.contain('Secure aggregation is off');
    expect(text(plain, 'privacy')).not.to.match(/ε|noise|clipped|budget/);
    expect(describePrivacy({ ...titanic, scheme: 'local' }).leavesDevice).to.contain('Nothing leaves your device');
  });

  it('a task asking for privacy the code does not enforce yet is refused where it is created', async () => {
    const api = new FakeDiscoApi();
    const refused = await api
      .createTask({ ...titanic, id: 'private', privacy: { secureAggregation: true, clippingNorm: 1, noiseMultiplier: 0.8 } }, { adminToken: 'admin' })
      .catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(DiscoApiError);
    expect((refused as DiscoApiError).issues!.map((issue) => issue.split(':')[0])).to.deep.equal(['privacy.secureAggregation', 'privacy.clippingNorm', 'privacy.noiseMultiplier']);
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
    const el = await render('titanic-private');
    await expect(el).to.be.accessible();
    el.theme = 'dark';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
