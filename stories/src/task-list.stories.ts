import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { DiscoApi, DiscoTaskList } from '@disco/elements';
import '@disco/elements';
import { downApi, emptyApi, fakeApi, slowApi } from './support/fixtures.js';
import { defaultServer, expectFromServer, liveArgTypes, liveDocs } from './support/live.js';

interface Args {
  api?: () => DiscoApi;
  server?: string;
  'data-type': '' | 'tabular' | 'image';
  selected: string;
  'poll-interval': number;
  theme?: 'light' | 'dark';
}

const meta: Meta<Args> = {
  title: 'Elements/Task list',
  component: 'disco-task-list',
  args: { api: fakeApi, 'data-type': '', selected: '', 'poll-interval': 0 },
  argTypes: {
    ...liveArgTypes,
    api: { table: { disable: true } },
    'data-type': { control: 'select', options: ['', 'tabular', 'image'] },
    theme: { control: 'inline-radio', options: [undefined, 'light', 'dark'] },
  },
  render: (args) => html`
    <disco-task-list
      .api=${args.api?.()}
      server=${ifDefined(args.server)}
      data-type=${args['data-type']}
      selected=${args.selected}
      poll-interval=${args['poll-interval']}
      theme=${ifDefined(args.theme)}
    ></disco-task-list>
  `,
};
export default meta;
type Story = StoryObj<Args>;

/** The built-in tasks of a server, with their participants now and rounds so far. */
export const Ready: Story = {};

/** A task chosen: `selected` marks it (the element sets it itself when a task is clicked). */
export const Selected: Story = { args: { selected: 'mnist' } };

/** Only the image tasks. */
export const FilteredByDataType: Story = { args: { 'data-type': 'image' } };

/** A server without any task yet. */
export const Empty: Story = { args: { api: emptyApi } };

/** The empty state with a page's own message in the `empty` slot. */
export const EmptyWithSlot: Story = {
  args: { api: emptyApi },
  render: (args) => html`<disco-task-list .api=${args.api?.()}><p slot="empty">No project is open yet. <a href="#">Start one</a>.</p></disco-task-list>`,
};

/** Waiting for the server. */
export const Loading: Story = { args: { api: slowApi } };

/** The server cannot be reached: the message and a retry button. */
export const ErrorState: Story = { name: 'Error', args: { api: downApi } };

/** Dark palette, forced by `theme="dark"`. */
export const Dark: Story = { args: { theme: 'dark' } };

/** Against a running `disco serve`. */
export const Live: Story = {
  args: { api: undefined, server: defaultServer, 'poll-interval': 5 },
  parameters: liveDocs,
  play: async ({ canvasElement }) => {
    const list = canvasElement.querySelector<DiscoTaskList>('disco-task-list')!;
    await list.loaded;
    await expectFromServer(list, 'Titanic: who survived?'); // a built-in task of the server
  },
};
