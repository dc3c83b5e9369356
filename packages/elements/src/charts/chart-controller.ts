import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { formatChartValue } from './chart-format.js';
import { resolveColors } from './resolve-colors.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Legend, Tooltip);

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  /** `undefined` leaves a gap (e.g. no validation metric for that epoch). */
  values: (number | undefined)[];
  /** A theme token, e.g. `chart-1`: the colour is read from `--disco-chart-1` on the host. */
  color: 'chart-1' | 'chart-2' | 'chart-3' | 'chart-4';
  dashed?: boolean;
}

/** What a chart shows now. */
export interface ChartData {
  labels: string[];
  series: ChartSeries[];
}

/** Options of a {@link ChartController}. */
export interface ChartOptions {
  /** The `<canvas>` in the host's render root (looked up after each render). */
  canvas: () => HTMLCanvasElement | null | undefined;
  data: () => ChartData;
  /** The x axis' title. */
  xTitle: string;
  /** Values in [0, 1] shown as percentages. */
  percent?: boolean;
  /** A logarithmic y axis, for values that fall by orders of magnitude (a language model's perplexity). */
  logarithmic?: boolean;
}

/**
 * A live line chart (chart.js) following an element's state: created when its canvas appears, updated
 * after each render when the data or the element's `theme` changed, destroyed with the canvas or the
 * element. No animation, so an update costs a redraw and nothing more.
 *
 * Colours come from the element's theme tokens, resolved by the browser (see {@link resolveColors}), so a
 * page may write its `--disco-*` colours in any CSS form. Ticks and tooltips show a few significant
 * digits, and percentages for a `percent` chart.
 */
export class ChartController implements ReactiveController {
  private chart: Chart<'line', (number | null)[], string> | undefined;
  private signature = '';

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly options: ChartOptions,
  ) {
    host.addController(this);
  }

  hostUpdated(): void {
    const canvas = this.options.canvas();
    if (this.chart && this.chart.canvas !== canvas) this.destroy();
    if (!canvas) return;
    const data = this.options.data();
    const signature = `${this.host.getAttribute('theme') ?? ''}|${JSON.stringify(data)}`;
    if (this.chart && signature === this.signature) return;
    this.signature = signature;
    const colors = resolveColors(canvas.parentNode as Element, ['color-text', 'color-border', ...data.series.map((s) => s.color)]);
    const datasets = data.series.map((s) => ({
      label: s.label,
      data: s.values.map((v) => (v === undefined || Number.isNaN(v) ? null : v)),
      borderColor: colors[s.color],
      backgroundColor: colors[s.color],
      borderDash: s.dashed ? [6, 4] : [],
      pointRadius: 2,
      spanGaps: true,
    }));
    const text = colors['color-text'];
    const grid = colors['color-border'];
    const percent = this.options.percent === true;
    if (this.chart) {
      const { scales, plugins } = this.chart.options;
      this.chart.data.labels = data.labels;
      this.chart.data.datasets = datasets;
      for (const scale of [scales!['x']!, scales!['y']!]) {
        scale.ticks!.color = text;
        scale.grid!.color = grid;
        if (scale.title) scale.title.color = text;
      }
      plugins!.legend!.labels!.color = text;
      this.chart.update('none');
      return;
    }
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: data.labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { labels: { color: text } },
          tooltip: {
            callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${formatChartValue(item.parsed.y ?? Number.NaN, { percent, digits: 4 })}` },
          },
        },
        scales: {
          x: { title: { display: true, text: this.options.xTitle, color: text }, ticks: { color: text }, grid: { color: grid } },
          y: {
            ...(this.options.logarithmic && { type: 'logarithmic' as const }),
            ticks: { color: text, callback: (value) => formatChartValue(value, { percent }) },
            grid: { color: grid },
            ...(percent && { suggestedMin: 0, suggestedMax: 1 }),
          },
        },
      },
    });
  }

  /** The chart.js instance, once its canvas is rendered (tests, embedders' tweaks). */
  get instance(): Chart<'line', (number | null)[], string> | undefined {
    return this.chart;
  }

  hostDisconnected(): void {
    this.destroy();
  }

  private destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.signature = '';
  }
}
