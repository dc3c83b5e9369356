import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { DiscoApi, DiscoTask } from '@disco/elements';
import '@disco/elements';
import { downApi, emptyApi, fakeApi, slowApi } from './support/fixtures.js';
import { defaultServer, expectFromServer, liveArgTypes, liveDocs } from './support/live.js';

interface Args {
  api?: () => DiscoApi;
  server?: string;
  'task-id': string;
  theme?: 'light' | 'dark';
}

const meta: Meta<Args> = {
  title: 'Elements/Task',
  component: 'disco-task',
  args: { api: fakeApi, 'task-id': 'titanic' },
  argTypes: {
    ...liveArgTypes,
    api: { table: { disable: true } },
    'task-id': { control: 'select', options: ['titanic', 'mnist', 'cifar10', 'titanic-secure', 'titanic-secure-dp', 'titanic-dp', 'titanic-async', 'sonnets', 'unknown'] },
    theme: { control: 'inline-radio', options: [undefined, 'light', 'dark'] },
  },
  render: (args) => html`
    <disco-task .api=${args.api?.()} server=${ifDefined(args.server)} task-id=${args['task-id']} theme=${ifDefined(args.theme)}></disco-task>
  `,
};
export default meta;
type Story = StoryObj<Args>;

/** A tabular task: the columns expected, an example, the scheme and the privacy statement. */
export const Ready: Story = {};

/** An image task: image size and labels. */
export const ImageTask: Story = { args: { 'task-id': 'mnist' } };

/** A text task: a language model of the participants' .txt files. */
export const TextTask: Story = { args: { 'task-id': 'sonnets' } };

/** A federated task trained asynchronously: how versions are made and what an old update counts. */
export const Asynchronous: Story = { args: { 'task-id': 'titanic-async' } };

/** The "None" privacy preset: the statement says that secure aggregation and differential privacy are off. */
export const PrivacyNone: Story = { args: { 'task-id': 'titanic' } };

/** The "Secure aggregation" preset: masked changes, clipped on the device, the threshold rule. */
export const PrivacySecure: Story = { args: { 'task-id': 'titanic-secure' } };

/** The "Secure aggregation + differential privacy (ε ≤ 8)" preset: noise added by each participant before masking, the budget. */
export const PrivacySecureDp: Story = { args: { 'task-id': 'titanic-secure-dp' } };

/** Central differential privacy (the server clips and noises the sum), with the ε spent so far from the task's rounds. */
export const PrivacyCentralDp: Story = { args: { 'task-id': 'titanic-dp' } };


/** Slots: an action beside the title and a footer. */
export const WithSlots: Story = {
  render: (args) => html`
    <disco-task .api=${args.api?.()} task-id=${args['task-id']}>
      <button slot="actions" type="button">Join this project</button>
      <p slot="footer">Questions? Write to the project's coordinator.</p>
    </disco-task>
  `,
};

/** No `task-id` yet. */
export const Empty: Story = { args: { 'task-id': '' } };

/** Waiting for the server. */
export const Loading: Story = { args: { api: slowApi } };

/** A task the server does not know. */
export const NotFound: Story = { args: { api: emptyApi, 'task-id': 'unknown' } };

/** The server cannot be reached. */
export const ErrorState: Story = { name: 'Error', args: { api: downApi } };

/** Dark palette. */
export const Dark: Story = { args: { theme: 'dark' } };

/** Against a running `disco serve`. */
export const Live: Story = {
  args: { api: undefined, server: defaultServer },
  parameters: liveDocs,
  play: async ({ canvasElement }) => {
    const task = canvasElement.querySelector<DiscoTask>('disco-task')!;
    await task.loaded;
    await expectFromServer(task, 'Titanic: who survived?');
  },
};
