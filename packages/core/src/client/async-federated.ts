/**
 * The participant's loop in an asynchronous (FedBuff) task, decision 0013. `FederatedClient` runs it with its
 * own pieces (join, heartbeats, downloads, the local training and encoding, retries), so that both modes share
 * them; only the order of the steps differs from synchronous rounds:
 *
 * ```
 *   fetch the latest version ─▶ train (the task's local epochs) ─▶ submit for round = base + 1 ─▶ repeat
 *   until the global model reaches `target` versions (or stop()); a STALE_UPDATE refusal: fetch the latest, go on
 * ```
 * Nobody waits for anybody: the server publishes a version every K accepted updates. Only where each
 * participant adds at most one update to a buffer (`allowsRepeatUpdates` false: noise, a robust strategy)
 * does a participant whose update is in the open buffer wait for that version before training again.
 */
import { allowsRepeatUpdates } from '../aggregation/async-policy.js';
import { formatEpsilon } from '../privacy/rounds.js';
import type { Task } from '../task/schema.js';
import type { EpochMetrics, TrainingEvent } from '../training/events.js';
import { DiscoApiError } from './api-errors.js';
import type { RoundState, SubmitResult } from './federation-api.js';
import { aggregatedMetrics } from './round-training.js';
import { throwIfStopped } from './session.js';

/** What the loop needs from its client. */
export interface AsyncSessionContext {
  task: Task;
  /** The model version at which the session ends (the task's `training.rounds`: versions to produce). */
  target: number;
  signal: AbortSignal;
  emit: (event: TrainingEvent) => void;
  /** The newest state the client knows (join, subscription, heartbeats). */
  state: () => RoundState;
  /** The version of the global model held (-1 before the first download). */
  held: () => number;
  /** Downloads `version` and makes it the model held. */
  download: (version: number) => Promise<void>;
  /** Local epochs from the model held; the encoded delta (header `modelVersion` = the version held). */
  train: (round: number) => Promise<{ metrics: EpochMetrics; update: Uint8Array }>;
  /** Submits (with the client's retries). */
  submit: (round: number, update: Uint8Array) => Promise<SubmitResult>;
  /** Asks the server for the state now. */
  refresh: () => Promise<RoundState>;
  /** Resolves once the state satisfies `ready`. */
  waitForState: (ready: (state: RoundState) => boolean) => Promise<void>;
  /** Counters the loop keeps up to date (read by a stopped session's `done`). */
  progress?: AsyncProgress;
}

/** How far a session got. */
export interface AsyncProgress {
  /** This participant's updates the server accepted. */
  updatesAccepted: number;
  /** Its updates refused as too stale. */
  updatesRefused: number;
}

/** What the loop ends with. */
export interface AsyncOutcome extends AsyncProgress {
  /** The task's privacy budget is spent: no further version will be published. */
  budgetExhausted: boolean;
}

/**
 * Trains and submits until the global model reaches `context.target` or the budget is spent; see the module's
 * description. Emits a `round` event for each accepted update: `round` the version it was buffered for,
 * `modelVersion` the current version when it arrived, `staleness` as the server counted it, the local metrics and
 * the last version's aggregated ones.
 */
export async function runAsyncSession(context: AsyncSessionContext): Promise<AsyncOutcome> {
  const { task, target, signal, emit } = context;
  const progress = context.progress ?? { updatesAccepted: 0, updatesRefused: 0 };
  const repeats = allowsRepeatUpdates(task);
  // The version whose buffer holds this participant's last accepted update.
  let bufferedFor = 0;
  if (context.state().modelVersion >= target)
    emit({
      type: 'log',
      level: 'warn',
      message: `the global model already reached version ${target} (v${context.state().modelVersion}): nothing left to train; pass a higher rounds target (--rounds) to continue`,
    });
  for (;;) {
    throwIfStopped(signal);
    const state = context.state();
    if (state.modelVersion > context.held()) {
      const previous = context.held();
      await context.download(state.modelVersion);
      if (previous >= 0) emit({ type: 'log', level: 'info', message: `global model v${context.held()} received` });
    }
    if (context.held() >= target) return { ...progress, budgetExhausted: false };
    if (state.privacy?.exhausted && state.modelVersion === context.held()) {
      emit({
        type: 'log',
        level: 'warn',
        message: `training stopped at model v${context.held()}: the task's privacy budget is spent (ε = ${formatEpsilon(state.privacy.epsilon)} of ε = ${state.privacy.budget} at δ = ${state.privacy.delta}; one more version would exceed it)`,
      });
      return { ...progress, budgetExhausted: true };
    }
    // One update per participant and buffer: train again from the version this one goes into.
    if (!repeats && bufferedFor > context.held()) {
      // An empty buffer for that version means it was dropped (its aggregate failed): train again at once.
      await context.waitForState((s) => s.modelVersion >= bufferedFor || (s.round === bufferedFor && s.submitted === 0) || s.privacy?.exhausted === true);
      if (context.state().modelVersion < bufferedFor) bufferedFor = 0;
      continue;
    }
    const base = context.held();
    const { metrics, update } = await context.train(base + 1);
    const result = await submitUpdate(context, base, update, progress);
    if (result === 'duplicate') bufferedFor = (await context.refresh()).modelVersion + 1;
    if (typeof result !== 'object') continue;
    bufferedFor = result.round;
    const latest = context.state();
    emit({
      type: 'round',
      round: result.round,
      rounds: target,
      metrics: { ...metrics, ...(latest.metrics && { aggregated: aggregatedMetrics(latest.metrics, task) }) },
      participants: latest.participants,
      modelVersion: result.round - 1,
      staleness: result.staleness ?? result.round - 1 - base,
      ...(latest.privacy && { epsilon: latest.privacy.epsilon, delta: latest.privacy.delta }),
    });
  }
}

/** Refusals of a buffer that is being aggregated, in a row, before the session gives up on the server. */
const MAX_CLOSED_BUFFER_RETRIES = 20;

/**
 * Sends one update: the server's answer, `'duplicate'` (a retried submission that had arrived: counted as
 * accepted), or `'lost'` (too stale, or the budget ran out). A buffer that is being aggregated (`ROUND_NOT_OPEN`)
 * takes no update: the same update goes to the next buffer once it opens (one version staler). Other refusals throw.
 */
async function submitUpdate(context: AsyncSessionContext, base: number, update: Uint8Array, progress: AsyncProgress): Promise<SubmitResult | 'duplicate' | 'lost'> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await context.submit(base + 1, update);
      progress.updatesAccepted += 1;
      return result;
    } catch (error) {
      if (!(error instanceof DiscoApiError)) throw error;
      if (error.code === 'STALE_UPDATE') {
        // Slower than maxStaleness versions: this update is lost; the next one starts from the latest.
        progress.updatesRefused += 1;
        context.emit({ type: 'log', level: 'warn', message: `update trained from v${base} refused (${error.message}); training again from the latest version` });
        await context.refresh();
        return 'lost';
      }
      if (error.code === 'DUPLICATE_UPDATE') {
        // A retried submission whose first attempt did arrive: it is in the open buffer.
        progress.updatesAccepted += 1;
        return 'duplicate';
      }
      if (error.code !== 'ROUND_NOT_OPEN' || attempt > MAX_CLOSED_BUFFER_RETRIES) throw error;
      // The budget ran out meanwhile (the loop's check ends the session), or the buffer is being aggregated.
      if ((await context.refresh()).privacy?.exhausted) return 'lost';
      if (attempt === 1) context.emit({ type: 'log', level: 'info', message: `${error.message}: sending this update to the next buffer once it opens` });
      // Open again: the next buffer (or the same version's, if that aggregate failed).
      await context.waitForState((s) => s.phase === 'open' || s.privacy?.exhausted === true);
    }
  }
}
