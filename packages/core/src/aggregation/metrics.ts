/**
 * The metrics clients report with their updates, and how a round combines them: the mean of each metric
 * weighted by the clients' numbers of training examples (like Flower's `weighted_average` metrics
 * aggregation function). The server (a round's metrics), the decentralized peers (the group's metrics) and
 * the in-memory federations all use this one definition.
 */

/** The metrics a client reports, in the order they are shown; the one list of their keys. */
export const METRIC_KEYS = ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const;

export type MetricKey = (typeof METRIC_KEYS)[number];

/** Some of the metrics; a key is absent when it was not computed. */
export type ClientMetrics = Partial<Record<MetricKey, number>>;

/** One client's contribution: its metrics and the number of examples it trained on (the weight). */
export interface WeightedMetrics {
  metrics: ClientMetrics | null | undefined;
  samples: number;
}

/** True for a metric value worth reporting or averaging: a finite number. */
function isFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * The finite metrics of `metrics` under the known keys (others dropped), e.g. for an update's header:
 * `finiteMetrics({ loss: 0.5, accuracy: NaN })` is `{ loss: 0.5 }`.
 */
export function finiteMetrics(metrics: Readonly<Partial<Record<MetricKey, unknown>>> | null | undefined): ClientMetrics {
  const out: ClientMetrics = {};
  for (const key of METRIC_KEYS) {
    const value = metrics?.[key];
    if (isFinite(value)) out[key] = value;
  }
  return out;
}

/**
 * Σ samplesᵢ·metricᵢ / Σ samplesᵢ for each key, over the clients that reported a finite value for it
 * (a client without `valAccuracy` does not pull that mean towards 0). A key nobody reported is absent.
 * Clients with a non-positive or non-finite number of samples count for nothing.
 *
 * @example
 * ```ts
 * weightedMetrics([{ metrics: { loss: 1 }, samples: 100 }, { metrics: { loss: 4 }, samples: 200 }]); // { loss: 3 }
 * ```
 */
export function weightedMetrics(contributions: Iterable<WeightedMetrics>): ClientMetrics {
  const sums = new Map<MetricKey, { sum: number; weight: number }>();
  for (const { metrics, samples } of contributions) {
    if (!(samples > 0) || !Number.isFinite(samples)) continue;
    for (const key of METRIC_KEYS) {
      const value = metrics?.[key];
      if (!isFinite(value)) continue;
      const entry = sums.get(key) ?? { sum: 0, weight: 0 };
      entry.sum += value * samples;
      entry.weight += samples;
      sums.set(key, entry);
    }
  }
  const out: ClientMetrics = {};
  for (const key of METRIC_KEYS) {
    const entry = sums.get(key);
    if (entry) out[key] = entry.sum / entry.weight;
  }
  return out;
}

/**
 * A language model's metrics with their perplexities: `perplexity` = exp(loss) and `valPerplexity` =
 * exp(valLoss), for those present. Aggregated perplexities are derived this way from the aggregated
 * (sample-weighted) losses, never averaged themselves: the mean of exponentials is not the exponential of
 * the mean loss, which is the perplexity of the pooled data.
 *
 * @example
 * ```ts
 * withPerplexities({ loss: Math.log(100), valLoss: Math.log(200) }); // { loss: 4.6, valLoss: 5.3, perplexity: 100, valPerplexity: 200 }
 * ```
 */
export function withPerplexities<M extends { loss?: number; valLoss?: number }>(metrics: M): M & { perplexity?: number; valPerplexity?: number } {
  return {
    ...metrics,
    ...(isFinite(metrics.loss) && { perplexity: Math.exp(metrics.loss) }),
    ...(isFinite(metrics.valLoss) && { valPerplexity: Math.exp(metrics.valLoss) }),
  };
}
