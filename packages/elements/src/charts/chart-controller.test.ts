import { expect, fixture, html as testHtml } from '@open-wc/testing';
import { html, LitElement } from 'lit';
import { themeStyles } from '../styles/theme.js';
import { formatChartValue } from './chart-format.js';
import { ChartController } from './chart-controller.js';
import { resolveColors, toRgb } from './resolve-colors.js';

/** A minimal themed element with one percent chart. */
class ChartHost extends LitElement {
  static override styles = themeStyles;
  values: number[] = [0.2, 0.6000000000000001, 0.8];
  readonly chart = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector('canvas'),
    xTitle: 'epoch',
    percent: true,
    data: () => ({ labels: this.values.map((_, i) => String(i + 1)), series: [{ label: 'accuracy', values: this.values, color: 'chart-1' }] }),
  });
  protected override render() {
    return html`<div style="position: relative; height: 200px; width: 300px"><canvas></canvas></div>`;
  }
}
customElements.define('test-chart-host', ChartHost);

describe('charts', () => {
  it('format ticks with a few significant digits, percentages for accuracy', () => {
    expect(formatChartValue(0.6000000000000001)).to.equal('0.6');
    expect(formatChartValue(0.123456)).to.equal('0.123');
    expect(formatChartValue(1234.5)).to.equal('1230');
    expect(formatChartValue(0)).to.equal('0');
    expect(formatChartValue(0.6000000000000001, { percent: true })).to.equal('60 %');
    expect(formatChartValue(0.8125, { percent: true })).to.equal('81.3 %');
    expect(formatChartValue('n/a')).to.equal('n/a');
  });

  it('resolve light-dark(), color-mix() and named colours to rgb, following the color-scheme', async () => {
    const host = await fixture<HTMLDivElement>(testHtml`<div
      style="color-scheme: light; color: rgb(1, 2, 3); --_a: light-dark(#ff0000, #00ff00); --_b: color-mix(in srgb, blue 50%, white); --_c: rebeccapurple; --_d: not-a-colour"
    ></div>`);
    expect(resolveColors(host, ['a', 'b', 'c', 'd'])).to.deep.equal({
      a: 'rgb(255, 0, 0)',
      b: 'rgb(128, 128, 255)',
      c: 'rgb(102, 51, 153)',
      d: 'rgb(1, 2, 3)', // not a colour: the text colour, not black
    });
    host.style.colorScheme = 'dark';
    expect(resolveColors(host, ['a']).a).to.equal('rgb(0, 255, 0)');
    expect(host.children).to.have.length(0);
    expect(toRgb('oklch(0.628 0.2577 29.23)')).to.match(/^rgb\(25[0-5], [0-9], [0-9]\)$/);
  });

  it('draw with the theme colours written with light-dark(), and formatted ticks', async () => {
    const el = await fixture<ChartHost>(testHtml`<test-chart-host theme="light" style="--disco-chart-1: light-dark(#c2410c, #ffa657); --disco-color-text: light-dark(#101010, #fafafa)"></test-chart-host>`);
    await el.updateComplete;
    const chart = el.chart.instance!;
    expect(chart).to.not.equal(undefined);
    expect(chart.data.datasets[0].borderColor).to.equal('rgb(194, 65, 12)');
    expect(chart.options.scales!['y']!.ticks!.color).to.equal('rgb(16, 16, 16)');
    const ticks = chart.scales['y'].ticks.map((t) => t.label);
    expect(ticks).to.include('60 %');
    expect(ticks.every((t) => /^\d+(\.\d+)? %$/.test(String(t))), String(ticks)).to.equal(true);
    // The theme changes: the colours follow at the next render.
    el.setAttribute('theme', 'dark');
    el.requestUpdate();
    await el.updateComplete;
    expect(el.chart.instance!.data.datasets[0].borderColor).to.equal('rgb(255, 166, 87)');
    expect(el.chart.instance!.options.scales!['y']!.ticks!.color).to.equal('rgb(250, 250, 250)');
  });
});
