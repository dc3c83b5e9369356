import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { DiscoApi, DiscoTaskForm } from '@disco/elements';
import '@disco/elements';
import { fakeApi, slowApi } from './support/fixtures.js';
import { defaultServer, expectFromServer, liveAdminToken, liveArgTypes, liveDocs } from './support/live.js';

interface Args {
  api?: () => DiscoApi;
  server?: string;
  'admin-token': string;
  theme?: 'light' | 'dark';
}

/** The fake API's admin token (see `FakeDiscoApi`). */
const adminToken = 'admin';

const meta: Meta<Args> = {
  title: 'Elements/Task form',
  component: 'disco-task-form',
  args: { api: fakeApi, 'admin-token': adminToken },
  argTypes: {
    ...liveArgTypes,
    api: { table: { disable: true } },
    theme: { control: 'inline-radio', options: [undefined, 'light', 'dark'] },
  },
  render: (args) => html`
    <disco-task-form .api=${args.api?.()} server=${ifDefined(args.server)} admin-token=${args['admin-token']} theme=${ifDefined(args.theme)}></disco-task-form>
  `,
};
export default meta;
type Story = StoryObj<Args>;

const formIn = (canvas: HTMLElement) => canvas.querySelector<DiscoTaskForm>('disco-task-form')!;

/** A heart-disease study, as a coordinator would describe it. */
const heartDisease = {
  id: 'heart-disease',
  title: 'Heart disease risk',
  description: 'Predicts **heart disease** from routine measurements, trained across the cardiology departments of the consortium.',
  'tabular.inputColumns': 'age, sex, chol, trestbps, thalach',
  'tabular.outputColumn': 'target',
  'tabular.labels': '0, 1',
};

/** A new form: the schema's defaults, nothing typed yet. */
export const Empty: Story = {};

/** Without `admin-token`, the form asks for the token itself. */
export const AsksForToken: Story = { args: { 'admin-token': '' } };

/** Filled in and valid, ready to submit. */
export const Ready: Story = {
  play: async ({ canvasElement }) => {
    formIn(canvasElement).setValues(heartDisease);
  },
};

/** Submitted incomplete: every problem next to its field, and a summary. */
export const Invalid: Story = {
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues({ id: 'Not A Slug!' });
    await form.submit();
  },
};

/** The server refused: an id that exists already, shown next to the id field. */
export const ServerRefused: Story = {
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues({ ...heartDisease, id: 'titanic' });
    await form.submit();
  },
};

/** A wrong admin token, shown next to the token. */
export const WrongToken: Story = {
  args: { 'admin-token': 'not-the-token' },
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues(heartDisease);
    await form.submit();
  },
};

/** Waiting for the server's answer. */
export const Submitting: Story = {
  args: { api: slowApi },
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues(heartDisease);
    void form.submit();
  },
};

/** Created: the confirmation. */
export const Created: Story = {
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues(heartDisease);
    await form.submit();
  },
};

/** Dark palette. */
export const Dark: Story = { ...Ready, args: { theme: 'dark' } };

/** Against a running `disco serve` started with `--admin-token story-admin`: creates a task there (a new id each time). */
export const Live: Story = {
  args: { api: undefined, server: defaultServer, 'admin-token': liveAdminToken },
  parameters: liveDocs,
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues({ ...heartDisease, id: `heart-disease-${Date.now().toString(36)}` });
    if (!(await form.submit())) throw new Error(`${defaultServer} refused the task`);
    expectFromServer(form, 'was created');
  },
};
