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

/** A text task: a language model (GPT) on the participants' .txt files, with its size, dropout and context length. */
export const TextTask: Story = {
  play: async ({ canvasElement }) => {
    formIn(canvasElement).setValues({
      id: 'sonnets',
      title: 'Sonnets',
      description: 'A language model that learns to continue **sonnets**.',
      dataType: 'text',
      'model.architecture': 'gpt',
      'text.contextLength': '64',
      'model.gpt.dropout': '0.1',
    });
  },
};

/** A federated task trained asynchronously (FedBuff): the updates per version, the staleness bound and weighting. */
export const Asynchronous: Story = {
  play: async ({ canvasElement }) => {
    formIn(canvasElement).setValues({ ...heartDisease, mode: 'async', 'async.bufferSize': '3', 'async.maxStaleness': '5' });
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

/** Chooses a privacy preset (or `custom`) as a user would. */
async function choosePrivacy(form: DiscoTaskForm, preset: string): Promise<void> {
  const radio = form.shadowRoot!.querySelector<HTMLInputElement>(`[name="privacy-preset"][value="${preset}"]`)!;
  if (radio.disabled) throw new Error(`the "${preset}" preset is not offered`);
  radio.click();
  await form.updateComplete;
}

/** The "Secure aggregation" preset: what it sets (a clipping norm, at least 3 participants, a bound on the examples) and what participants will read. */
export const PrivacySecure: Story = {
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues(heartDisease);
    await choosePrivacy(form, 'secure');
  },
};

/** The "Secure aggregation + differential privacy (ε ≤ 8)" preset, with how many of the task's rounds fit in the budget. */
export const PrivacySecureDp: Story = {
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues({ ...heartDisease, 'training.rounds': '10' });
    await choosePrivacy(form, 'secure-dp');
  },
};

/** A local task: the secure presets are not offered, and the form says why (core's reasons). */
export const PrivacyUnavailable: Story = {
  play: async ({ canvasElement }) => {
    formIn(canvasElement).setValues({ ...heartDisease, scheme: 'local' });
  },
};

/** A server on PostgreSQL, which refuses federated tasks with secure aggregation (decision 0015): the secure presets are disabled with its reason. */
export const PrivacyRefusedByServer: Story = {
  args: { api: () => fakeApi({ federatedSecureAggregation: false }) },
  play: async ({ canvasElement }) => {
    formIn(canvasElement).setValues(heartDisease);
  },
};

/** "Custom": every privacy setting; here central differential privacy with a budget that one round exceeds, refused inline. */
export const PrivacyCustom: Story = {
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues(heartDisease);
    await choosePrivacy(form, 'custom');
    form.setValues({ 'privacy.clippingNorm': '1', 'privacy.noiseMultiplier': '1.1', 'privacy.budget.epsilon': '0.5' });
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
    await expectFromServer(form, 'was created');
  },
};

/** Against a running `disco serve`: the "Secure aggregation + differential privacy (ε ≤ 8)" preset is a task the server takes. */
export const LiveSecureDp: Story = {
  args: Live.args,
  parameters: liveDocs,
  play: async ({ canvasElement }) => {
    const form = formIn(canvasElement);
    form.setValues({ ...heartDisease, id: `heart-disease-private-${Date.now().toString(36)}` });
    await choosePrivacy(form, 'secure-dp');
    const task = await form.submit();
    if (!task) throw new Error(`${defaultServer} refused the task`);
    if (!task.privacy.secureAggregation || task.privacy.budget?.epsilon !== 8) throw new Error('the server did not keep the preset');
    await expectFromServer(form, 'was created');
  },
};
