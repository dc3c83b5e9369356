/**
 * Tick and tooltip labels of the charts: a few significant digits instead of floating-point noise
 * (`0.6`, not `0.6000000000000001`), and values in [0, 1] as percentages when the chart says so.
 *
 * ```ts
 * formatChartValue(0.6000000000000001); // '0.6'
 * formatChartValue(0.8125, { percent: true }); // '81.3 %'
 * ```
 */
export function formatChartValue(value: number | string, options: { percent?: boolean; digits?: number } = {}): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const digits = options.digits ?? 3;
  const round = (x: number) => (x === 0 ? 0 : Number(x.toPrecision(digits)));
  if (options.percent) return `${round(n * 100)} %`;
  return String(round(n));
}
