import type { EpochMetrics, Scheme, Task } from '@disco/core';

/** The final figures of a training session (core's `FinalMetrics`): held-out accuracy and loss, and those of the last training epoch. */
export type { FinalMetrics } from '@disco/core';
import type { DoneEvent, FinalMetrics, SessionStats } from '@disco/core';

/** The detail of `disco-train-end`: the session's final figures and, from core's `DoneEvent`, what its privacy was. */
export type TrainEnd = { metrics: FinalMetrics; modelId: string; stopped: boolean; stats: SessionStats } & Pick<DoneEvent, 'secureAggregation' | 'epsilon' | 'delta' | 'budgetExhausted'>;

/**
 * The `disco-*` events of the elements, by name, with their `detail`. Every one bubbles and is composed,
 * so a host page can listen anywhere above the element, even across shadow roots:
 *
 * ```ts
 * document.addEventListener('disco-train-end', (event) => console.log(event.detail.metrics.accuracy));
 * ```
 */
export interface DiscoEventDetails {
  /** A task was chosen in `<disco-task-list>`. */
  'disco-task-select': { taskId: string };
  /** `<disco-task>` or `<disco-train>` loaded its task (from the server, or the `task` property). */
  'disco-task-load': { task: Task };
  /** `<disco-train>` started a training session (after its data was validated). */
  'disco-train-start': { taskId: string; scheme: Scheme; files: number };
  /** One local epoch finished. `round` is set in collaborative training. */
  'disco-epoch-end': { epoch: number; epochs: number; round?: number; metrics: EpochMetrics };
  /**
   * A collaborative round closed; `metrics` are this participant's, with the aggregate when known. Tasks with
   * differential privacy: `epsilon`, the ε the task has spent up to this round, at `delta`.
   */
  'disco-round-end': { round: number; rounds: number; metrics: EpochMetrics & { aggregated?: EpochMetrics }; participants: number; epsilon?: number; delta?: number };
  /**
   * Training finished, or was stopped, and the model was saved to the model library under `modelId`
   * (empty when it was stopped before its first epoch ended: nothing worth keeping). Collaborative sessions of
   * a task with secure aggregation: `secureAggregation: true`. Tasks with differential privacy: the ε spent by
   * the model's rounds, at `delta`, and `budgetExhausted: true` when the task's privacy budget ended the session.
   */
  'disco-train-end': TrainEnd;
  /** Something went wrong; `message` is for people, `code` for programs. */
  'disco-error': { code: string; message: string };
  /** A model of the library should be opened (in `<disco-evaluate>`). */
  'disco-model-open': { modelId: string };
  /** A model was deleted from the library. */
  'disco-model-delete': { modelId: string };
  /** `<disco-task-form>` created a task on the server. */
  'disco-task-create': { task: Task };
  /** `<disco-train>`'s data changed and was validated; `valid` tells whether training may start. */
  'disco-data-change': { files: number; valid: boolean };
  /**
   * `<disco-evaluate>` finished testing a model. Language models: `accuracy` is the next-token accuracy, with the
   * `perplexity` and the `tokens` predicted (`samples` counts the text windows).
   */
  'disco-evaluate-end': { accuracy: number; samples: number; perplexity?: number; tokens?: number };
  /**
   * `<disco-evaluate>` finished generating text with a language model (or was stopped): the prompt, the
   * continuation (`text`, the prompt not included), the tokens generated.
   */
  'disco-generate': { prompt: string; text: string; tokens: number; stopped: boolean };
}

/** The name of a `disco-*` event. */
export type DiscoEventName = keyof DiscoEventDetails;

/** The typed event object of a `disco-*` event. */
export type DiscoEvent<K extends DiscoEventName> = CustomEvent<DiscoEventDetails[K]>;

/** Every `disco-*` event name mapped to its event type, as `addEventListener` sees it. */
export type DiscoEventMap = { [K in DiscoEventName]: DiscoEvent<K> };

declare global {
  // Typed `addEventListener('disco-…', (event) => event.detail…)` everywhere.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merging into the global map takes an interface, with no members of its own
  interface GlobalEventHandlersEventMap extends DiscoEventMap {}
}

/** Error codes carried by `disco-error`. Stable: pages may switch on them. */
export type DiscoErrorCode =
  | 'api'
  | 'not-found'
  | 'invalid-data'
  | 'invalid-task'
  | 'unauthorized'
  | 'training'
  | 'worker'
  | 'storage'
  | 'model'
  | 'unsupported-scheme'
  | (string & {});
