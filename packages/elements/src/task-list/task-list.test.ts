import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { DiscoEvent } from '../events.js';
import { DiscoApiError } from '@disco/core';
import { closedRound } from '@disco/core/testing';
import { FakeDiscoApi } from '../api/fake-api.js';
import { mnist, titanic } from '@disco/core';
import type { DiscoTaskList } from './task-list.element.js';
import './task-list.js';

const fakeApi = () =>
  new FakeDiscoApi({
    tasks: [titanic, { ...mnist, scheme: 'local' }],
    participants: { titanic: 3 },
    rounds: { titanic: [2, 1].map((round) => closedRound(round)) },
  });

async function render(api = fakeApi()): Promise<DiscoTaskList> {
  const el = await fixture<DiscoTaskList>(html`<disco-task-list .api=${api}></disco-task-list>`);
  await el.loaded;
  return el;
}

const options = (el: DiscoTaskList) => [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="option"]')];

describe('<disco-task-list>', () => {
  it('lists the tasks with data type, scheme, participants and rounds', async () => {
    const el = await render();
    const [first, digits] = options(el);
    expect(options(el)).to.have.length(2);
    expect(first.textContent).to.contain('Titanic: who survived?').and.contain('Table (CSV)').and.contain('Federated');
    expect(first.textContent).to.contain('3 participants now').and.contain('2 rounds so far');
    expect(digits.textContent).to.contain('Images').and.contain('Local only').and.contain('0 rounds so far');
  });

  it('filters by data type', async () => {
    const el = await render();
    el.dataType = 'image';
    await el.updateComplete;
    expect(options(el).map((o) => o.dataset.id)).to.deep.equal(['mnist']);
  });

  it('fires disco-task-select with the task id on click', async () => {
    const el = await render();
    setTimeout(() => options(el)[1].click());
    const event = await oneEvent<DiscoEvent<'disco-task-select'>>(el, 'disco-task-select');
    expect(event.detail).to.deep.equal({ taskId: 'mnist' });
    expect(event.bubbles && event.composed).to.equal(true);
    expect(el.selected).to.equal('mnist');
  });

  it('is operable with the keyboard', async () => {
    const el = await render();
    const [first] = options(el);
    first.focus();
    first.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true, composed: true }));
    await el.updateComplete;
    const second = options(el)[1];
    expect(el.shadowRoot!.activeElement).to.equal(second);
    setTimeout(() => second.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true })));
    const event = await oneEvent<DiscoEvent<'disco-task-select'>>(el, 'disco-task-select');
    expect(event.detail.taskId).to.equal('mnist');
    expect(second.getAttribute('aria-selected')).to.equal('true');
  });

  it('shows the error and fires disco-error when the server fails', async () => {
    const api = fakeApi();
    api.failWith = new DiscoApiError('NETWORK', 'Cannot reach the Disco server.');
    const el = document.createElement('disco-task-list');
    const errorEvent = oneEvent<DiscoEvent<'disco-error'>>(el, 'disco-error');
    el.api = api;
    document.body.append(el);
    expect((await errorEvent).detail).to.deep.equal({ code: 'api', message: 'Cannot reach the Disco server.' });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.contain('Cannot reach the Disco server.');
    api.failWith = undefined;
    el.shadowRoot!.querySelector<HTMLButtonElement>('[role="alert"] button')!.click();
    await el.loaded;
    expect(options(el)).to.have.length(2);
    el.remove();
  });

  it('shows the empty state', async () => {
    const el = await render(new FakeDiscoApi());
    expect(el.shadowRoot!.querySelector('[part="empty"]')!.textContent).to.contain('No task on this server yet.');
  });

  it('passes an axe accessibility check, in light and dark themes', async () => {
    const el = await render();
    await expect(el).to.be.accessible();
    el.theme = 'dark';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
