import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { ModelStore } from '@disco/elements';
import '@disco/elements';
import { BrokenStore, freshStore, PendingStore, storeWithModels } from './support/models.js';

interface Args {
  'task-id': string;
  for: string;
  theme?: 'light' | 'dark';
}

const meta: Meta<Args> = {
  title: 'Elements/Model library',
  component: 'disco-model-library',
  args: { 'task-id': '', for: '' },
  argTypes: {
    'task-id': { control: 'select', options: ['', 'titanic', 'mnist'] },
    theme: { control: 'inline-radio', options: [undefined, 'light', 'dark'] },
  },
  loaders: [async ({ id }) => storeWithModels(id)],
  render: (args, { loaded }) => html`
    <disco-model-library .store=${loaded.store as ModelStore} task-id=${args['task-id']} for=${args.for} theme=${ifDefined(args.theme)}></disco-model-library>
  `,
};
export default meta;
type Story = StoryObj<Args>;

/** Models trained in this browser: task, date, metrics; download, delete, open. */
export const Ready: Story = {};

/** Only the models of one task. */
export const OneTask: Story = { args: { 'task-id': 'titanic' } };

/** Nothing trained yet. */
export const Empty: Story = { loaders: [async ({ id }) => ({ store: await freshStore(id) })] };

/** Reading IndexedDB. */
export const Loading: Story = { loaders: [async () => ({ store: new PendingStore('storybook-pending') })] };

/** IndexedDB cannot be read (e.g. blocked by the browser). */
export const ErrorState: Story = { name: 'Error', loaders: [async () => ({ store: new BrokenStore('storybook-broken') })] };

/** "Open" hands the model to the `<disco-evaluate>` named by `for`. */
export const OpenInEvaluate: Story = {
  args: { for: 'story-evaluate' },
  render: (args, { loaded }) => html`
    <disco-model-library .store=${loaded.store as ModelStore} for=${args.for}></disco-model-library>
    <h3 style="font: 600 1rem system-ui">Evaluate</h3>
    <disco-evaluate id="story-evaluate" .store=${loaded.store as ModelStore}></disco-evaluate>
  `,
};

/** Dark palette. */
export const Dark: Story = { args: { theme: 'dark' } };
