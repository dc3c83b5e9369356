import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Task } from '@disco/core';
import type { BackendSettings, GenerationSettings, ModelSource } from '../worker/protocol.js';
import { TrainingWorker } from '../worker/worker-client.js';

/** Where a generation stands. */
export type GenerationPhase = 'idle' | 'generating' | 'stopping' | 'done' | 'failed';

/** What a generation ended with. */
export interface Generation {
  prompt: string;
  /** The continuation (the prompt not included). */
  text: string;
  /** Tokens generated. */
  tokens: number;
  /** Stopped before `maxTokens` by the user. */
  stopped: boolean;
}

/** Text appended at most this often, so that a fast model does not render once per token. */
const RENDER_INTERVAL_MS = 50;

/**
 * The prompt box's state that outlives a render: its worker, the prompt, the text generated so far (streamed
 * from the worker as whole characters), and the outcome. Generation runs in the worker; the page only appends
 * text, at most every {@link RENDER_INTERVAL_MS}.
 */
export class GenerationController implements ReactiveController {
  phase: GenerationPhase = 'idle';
  prompt = '';
  text = '';
  tokens = 0;
  maxTokens = 0;
  error: Error | undefined;
  result: Generation | undefined;
  private worker: TrainingWorker | undefined;
  private runId: number | undefined;
  private renderTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  get running(): boolean {
    return this.phase === 'generating' || this.phase === 'stopping';
  }

  hostConnected(): void {
    this.worker?.keep();
  }

  hostDisconnected(): void {
    this.worker?.release();
  }

  /** Continues `prompt`; resolves once generation ended (finished or stopped). */
  async generate(task: Task, model: ModelSource, prompt: string, settings: GenerationSettings, backend: BackendSettings): Promise<Generation> {
    if (this.running) throw new Error('a generation is already running');
    this.phase = 'generating';
    this.prompt = prompt;
    this.text = '';
    this.tokens = 0;
    this.maxTokens = settings.maxTokens;
    this.error = undefined;
    this.result = undefined;
    this.host.requestUpdate();
    try {
      const worker = (this.worker ??= new TrainingWorker());
      const run = worker.generate(task, model, prompt, settings, backend, (text, tokens) => {
        this.text += text;
        this.tokens = tokens;
        this.renderTimer ??= setTimeout(() => {
          this.renderTimer = undefined;
          this.host.requestUpdate();
        }, RENDER_INTERVAL_MS);
      });
      this.runId = run.id;
      if ((this.phase as GenerationPhase) === 'stopping') worker.stop(run.id); // stopped while the request was being sent
      const { text, tokens, stopped } = await run.done;
      this.text = text;
      this.tokens = tokens;
      this.result = { prompt, text, tokens, stopped };
      this.phase = 'done';
      return this.result;
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
      this.phase = 'failed';
      throw this.error;
    } finally {
      this.runId = undefined;
      clearTimeout(this.renderTimer);
      this.renderTimer = undefined;
      this.host.requestUpdate();
    }
  }

  /** Stops the running generation after its current token; the text so far is kept. */
  stop(): void {
    if (this.phase !== 'generating') return;
    this.phase = 'stopping';
    if (this.runId !== undefined) this.worker?.stop(this.runId);
    this.host.requestUpdate();
  }
}
