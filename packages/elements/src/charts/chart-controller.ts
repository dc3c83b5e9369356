import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { ReactiveController, ReactiveControllerHost } from 'lit';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

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
}

/**
 * A live line chart (chart.js) following an element's state: created when its canvas appears, updated
 * after each render when the data changed, destroyed with the canvas or the element. No animation, so an
 * update costs a redraw and nothing more.
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
    const signature = JSON.stringify(data);
    if (this.chart && signature === this.signature) return;
    this.signature = signature;
    const style = getComputedStyle(this.host);
    const token = (name: string) => style.getPropertyValue(`--_${name}`).trim() || '#888';
    const datasets = data.series.map((s) => ({
      label: s.label,
      data: s.values.map((v) => (v === undefined || Number.isNaN(v) ? null : v)),
      borderColor: token(s.color),
      backgroundColor: token(s.color),
      borderDash: s.dashed ? [6, 4] : [],
      pointRadius: 2,
      spanGaps: true,
    }));
    if (this.chart) {
      this.chart.data.labels = data.labels;
      this.chart.data.datasets = datasets;
      this.chart.update('none');
      return;
    }
    const text = token('color-text');
    const grid = token('color-border');
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: data.labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { labels: { color: text } } },
        scales: {
          x: { title: { display: true, text: this.options.xTitle, color: text }, ticks: { color: text }, grid: { color: grid } },
          y: {
            ticks: { color: text, callback: this.options.percent ? (v) => `${Math.round(Number(v) * 100)} %` : undefined },
            grid: { color: grid },
            ...(this.options.percent && { suggestedMin: 0, suggestedMax: 1 }),
          },
        },
      },
    });
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
