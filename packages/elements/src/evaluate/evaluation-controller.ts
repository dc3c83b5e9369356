import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EvaluationReport, PredictionRow, Task } from '@disco/core';
import type { BackendSettings, DataFile, ModelSource } from '../worker/protocol.js';
import { TrainingWorker } from '../worker/worker-client.js';

/** What `<disco-evaluate>` is doing. */
export type EvaluationPhase = 'idle' | 'testing' | 'predicting' | 'tested' | 'predicted' | 'failed';

/**
 * The state of `<disco-evaluate>` that outlives a render: its worker, the last report or predictions,
 * and the error. Tests a model on labelled data, or predicts unlabelled data, in the training worker.
 */
export class EvaluationController implements ReactiveController {
  phase: EvaluationPhase = 'idle';
  report: EvaluationReport | undefined;
  predictions: { rows: PredictionRow[]; classes: string[]; csv: string } | undefined;
  error: Error | undefined;
  private worker: TrainingWorker | undefined;
  private run = 0;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  get busy(): boolean {
    return this.phase === 'testing' || this.phase === 'predicting';
  }

  hostConnected(): void {
    this.worker?.keep();
  }

  hostDisconnected(): void {
    this.worker?.release();
  }

  /** Tests `model` on labelled `files`; resolves with the report. */
  async test(files: DataFile[], task: Task, model: ModelSource, backend: BackendSettings): Promise<EvaluationReport> {
    return this.perform('testing', async (worker) => {
      const { report } = await worker.evaluate(files, task, model, backend);
      this.report = report;
      this.predictions = undefined;
      this.phase = 'tested';
      return report;
    });
  }

  /** Predicts the class of every example of `files` (labels not needed). */
  async predict(files: DataFile[], task: Task, model: ModelSource, backend: BackendSettings): Promise<{ rows: PredictionRow[]; csv: string }> {
    return this.perform('predicting', async (worker) => {
      const predictions = await worker.predict(files, task, model, backend);
      this.predictions = predictions;
      this.report = undefined;
      this.phase = 'predicted';
      return predictions;
    });
  }

  /** Forgets the last outcome (e.g. the model or the data changed). */
  reset(): void {
    if (this.busy) return;
    this.phase = 'idle';
    this.report = undefined;
    this.predictions = undefined;
    this.error = undefined;
    this.host.requestUpdate();
  }

  private async perform<T>(phase: 'testing' | 'predicting', work: (worker: TrainingWorker) => Promise<T>): Promise<T> {
    const run = ++this.run;
    this.phase = phase;
    this.error = undefined;
    this.host.requestUpdate();
    try {
      return await work((this.worker ??= new TrainingWorker()));
    } catch (error) {
      if (run === this.run) {
        this.error = error instanceof Error ? error : new Error(String(error));
        this.phase = 'failed';
      }
      throw error;
    } finally {
      this.host.requestUpdate();
    }
  }
}
