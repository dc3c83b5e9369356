import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { DiscoApi, DiscoEvaluate, ModelStore } from '@disco/elements';
import '@disco/elements';
import { fakeApi } from './support/fixtures.js';
import { defaultServer, expectFromServer, liveArgTypes, liveDocs } from './support/live.js';
import { sonnetFile } from './support/fixtures.js';
import { freshStore, heldOutTitanic, PendingStore, storeWithLanguageModel, storeWithModels } from './support/models.js';

interface Args {
  api?: () => DiscoApi;
  server?: string;
  'task-id': string;
  'model-id'?: string;
  theme?: 'light' | 'dark';
}

const meta: Meta<Args> = {
  title: 'Elements/Evaluate',
  component: 'disco-evaluate',
  args: { api: fakeApi, 'task-id': '' },
  argTypes: {
    ...liveArgTypes,
    api: { table: { disable: true } },
    theme: { control: 'inline-radio', options: [undefined, 'light', 'dark'] },
  },
  // A library with a Titanic model trained on three quarters of the passengers (a few seconds, once); the
  // language-model stories' library holds a GPT instead (parameters.library).
  loaders: [async ({ id, parameters }) => (parameters.library === 'language-model' ? storeWithLanguageModel(id) : storeWithModels(id))],
  render: (args, { loaded }) => html`
    <disco-evaluate
      .api=${args.api?.()}
      .store=${loaded.store as ModelStore}
      server=${ifDefined(args.server)}
      task-id=${args['task-id']}
      model-id=${args['model-id'] ?? (loaded.modelId as string)}
      theme=${ifDefined(args.theme)}
    ></disco-evaluate>
  `,
};
export default meta;
type Story = StoryObj<Args>;

const evaluateIn = (canvas: HTMLElement) => canvas.querySelector<DiscoEvaluate>('disco-evaluate')!;

/** No model in the library yet. */
export const Empty: Story = { args: { 'model-id': '' }, loaders: [async ({ id }) => ({ store: await freshStore(id) })] };

/** Reading the library. */
export const Loading: Story = { loaders: [async () => ({ store: new PendingStore('storybook-pending'), modelId: 'titanic-1' })] };

/** The model just trained, chosen: waiting for labelled data. */
export const Ready: Story = {};

/** Tested on held-out passengers: accuracy, confusion matrix, per-class figures. */
export const Tested: Story = {
  play: async ({ canvasElement }) => {
    const evaluate = evaluateIn(canvasElement);
    await evaluate.loaded;
    evaluate.files = [heldOutTitanic(true)];
    await evaluate.test();
  },
};

/** Predictions for passengers without the answer column, downloadable as CSV. */
export const Predicted: Story = {
  play: async ({ canvasElement }) => {
    const evaluate = evaluateIn(canvasElement);
    await evaluate.loaded;
    evaluate.files = [heldOutTitanic(false)];
    await evaluate.predict();
  },
};

/** A `model-id` the library does not hold. */
export const ErrorState: Story = { name: 'Error', args: { 'model-id': 'titanic-gone' } };

/**
 * A language model: the prompt box (prompt, tokens, temperature, top-k, seed) streams the continuation into the
 * page token by token as the worker generates it. The model here is the seeded, untrained GPT nano: gibberish,
 * streamed as a trained model's text would be.
 */
export const PromptBox: Story = {
  parameters: { library: 'language-model' },
  play: async ({ canvasElement }) => {
    const evaluate = evaluateIn(canvasElement);
    await evaluate.loaded;
    const result = await evaluate.generate('Shall I compare thee', { maxTokens: 30, temperature: 0.8, topK: 40, seed: 1 });
    if (result.tokens === 0) throw new Error('nothing was generated');
  },
};

/** A language model tested on a text file: its perplexity there. */
export const LanguageModelTested: Story = {
  parameters: { library: 'language-model' },
  play: async ({ canvasElement }) => {
    const evaluate = evaluateIn(canvasElement);
    evaluate.files = [sonnetFile()];
    await evaluate.test();
  },
};

/** Dark palette. */
export const Dark: Story = { ...Tested, args: { theme: 'dark' } };

/** With a running `disco serve` for the task (`task-id`) and an uploaded TF.js model. */
export const Live: Story = {
  args: { api: undefined, server: defaultServer, 'task-id': 'titanic', 'model-id': '' },
  parameters: liveDocs,
  play: async ({ canvasElement }) => {
    const evaluate = evaluateIn(canvasElement);
    await evaluate.loaded;
    await expectFromServer(evaluate, 'Titanic: who survived?');
  },
};
