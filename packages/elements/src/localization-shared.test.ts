import { expect, fixture, html } from '@open-wc/testing';
import { configureLocalization } from '@lit/localize';
import { titanic } from '@disco/core';

// A page that localizes itself with the same copy of @lit/localize, configured before the elements load
// (this file's page imports them only afterwards): the elements still load and render, in English.
describe('localization when the page configured @lit/localize first', () => {
  it('the elements load and render their English text', async () => {
    configureLocalization({ sourceLocale: 'en', targetLocales: ['de'], loadLocale: () => Promise.resolve({ templates: {} }) });
    const warn = console.warn;
    const warnings: unknown[] = [];
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
    try {
      await import('./task-list/task-list.js');
    } finally {
      console.warn = warn;
    }
    const { FakeDiscoApi } = await import('./api/fake-api.js');
    const list = await fixture<HTMLElementTagNameMap['disco-task-list']>(html`<disco-task-list .api=${new FakeDiscoApi({ tasks: [titanic] })}></disco-task-list>`);
    await list.loaded;

    expect(list.shadowRoot!.textContent).to.contain('Data type');
    expect(warnings.join('\n')).to.contain('@lit/localize was configured by the page');
  });
});
