import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { DiscoApi, DiscoTrain } from '@disco/elements';
import '@disco/elements';
import { downApi, fakeApi, slowApi, sonnetFile, titanicFile, wrongColumnsFile } from './support/fixtures.js';
import { defaultServer, expectFromServer, liveArgTypes, liveDocs } from './support/live.js';
import { freshStore } from './support/models.js';

interface Args {
  api?: () => DiscoApi;
  server?: string;
  'task-id': string;
  scheme: '' | 'local' | 'federated' | 'decentralized';
  epochs?: number;
  rounds?: number;
  theme?: 'light' | 'dark';
}

const meta: Meta<Args> = {
  title: 'Elements/Train',
  component: 'disco-train',
  args: { api: fakeApi, 'task-id': 'titanic', scheme: 'local', epochs: 8 },
  argTypes: {
    ...liveArgTypes,
    api: { table: { disable: true } },
    'task-id': { control: 'select', options: ['titanic', 'titanic-quick', 'titanic-p2p', 'titanic-budget', 'titanic-async', 'sonnets', 'mnist', 'cifar10'] },
    scheme: { control: 'inline-radio', options: ['', 'local', 'federated', 'decentralized'] },
    epochs: { control: 'number' },
    rounds: { control: 'number' },
    theme: { control: 'inline-radio', options: [undefined, 'light', 'dark'] },
  },
  loaders: [async ({ id }) => ({ store: await freshStore(id) })],
  render: (args, { loaded }) => html`
    <disco-train
      .api=${args.api?.()}
      .store=${loaded.store}
      server=${ifDefined(args.server)}
      task-id=${args['task-id']}
      scheme=${args.scheme}
      epochs=${ifDefined(args.epochs)}
      rounds=${ifDefined(args.rounds)}
      theme=${ifDefined(args.theme)}
    ></disco-train>
  `,
};
export default meta;
type Story = StoryObj<Args>;

const trainIn = (canvas: HTMLElement) => canvas.querySelector<DiscoTrain>('disco-train')!;

/** The task is known; no data yet. */
export const Empty: Story = {};

/** Waiting for the task from the server. */
export const Loading: Story = { args: { api: slowApi } };

/** Files chosen and checked against the task, with a preview: ready to start. */
export const Ready: Story = {
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [titanicFile(0, 1, 'titanic.csv')];
    await train.filesChecked;
  },
};

/** A file whose columns are not the task's: the error is shown next to it and training cannot start. */
export const InvalidFiles: Story = {
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [titanicFile(0, 2, 'passengers.csv'), wrongColumnsFile()];
    await train.filesChecked;
  },
};

/** Training with live progress: bars for epoch and batch, the charts, the log (in a Web Worker). */
export const Training: Story = {
  args: { epochs: 200 },
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [titanicFile(0, 1, 'titanic.csv')];
    await train.filesChecked;
    // The story's play ends after a few epochs, while the training goes on (Stop is live).
    const epochs = new Promise<void>((resolve) =>
      train.addEventListener('disco-epoch-end', (event) => event.detail.epoch >= 3 && resolve()),
    );
    void train.start();
    await epochs;
  },
};

/** Training finished: the final figures, and the model saved to the library. */
export const Finished: Story = {
  args: { epochs: 6 },
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [titanicFile(0, 1, 'titanic.csv')];
    await train.filesChecked;
    const ended = new Promise((resolve) => train.addEventListener('disco-train-end', resolve, { once: true }));
    await train.start();
    await ended;
  },
};

/** Two `<disco-train>` side by side on one fake API, each in a section titled `${label} 1` / `${label} 2`. */
function sideBySide(label: string, scheme: 'federated' | 'decentralized'): Story['render'] {
  return (args, { loaded }) => {
    const api = fakeApi();
    return html`
      <div style="display: grid; grid-template-columns: repeat(auto-fit, minmax(min(28rem, 100%), 1fr)); gap: 1rem">
        ${[0, 1].map(
          (part) => html`
            <section>
              <h3 style="font: 600 1rem system-ui; margin: 0 0 0.5rem">${label} ${part + 1}</h3>
              <disco-train .api=${api} .store=${loaded.store} task-id=${args['task-id']} scheme=${scheme} data-part=${part}></disco-train>
            </section>
          `,
        )}
      </div>
    `;
  };
}

/**
 * Federated training between two participants of this page (the fake API's in-memory federation): rounds,
 * participants, and each participant's curves beside the aggregated ones.
 */
export const Collaborative: Story = {
  args: { 'task-id': 'titanic-quick', scheme: 'federated', epochs: undefined },
  render: sideBySide('Participant', 'federated'),
  play: async ({ canvasElement }) => {
    const trains = [...canvasElement.querySelectorAll<DiscoTrain>('disco-train')];
    await Promise.all(
      trains.map(async (train, part) => {
        train.files = [titanicFile(part, 2, `hospital-${part + 1}.csv`)];
        await train.filesChecked;
      }),
    );
    await Promise.all(trains.map((train) => train.start()));
  },
};

/**
 * Decentralized training between two participants of this page: the fake API only introduces them to each
 * other, their models travel over WebRTC (the connections live on the page, the training in each element's
 * worker). The progress shows the peers connected and the bytes exchanged with them.
 */
export const Decentralized: Story = {
  args: { 'task-id': 'titanic-p2p', scheme: 'decentralized', epochs: undefined },
  render: sideBySide('Peer', 'decentralized'),
  play: Collaborative.play,
};

/**
 * Differential privacy (the fake server clips and noises the sum, as a real one does): the ε spent shows after
 * each round, and when the task's small budget (ε = 4) is spent after 2 of its 5 rounds, training stops and
 * says so.
 */
export const PrivacyBudgetSpent: Story = {
  args: { 'task-id': 'titanic-budget', scheme: 'federated', epochs: undefined },
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [titanicFile(0, 2, 'hospital-1.csv')];
    await train.filesChecked;
    await train.start();
    await train.updateComplete;
    if (!train.result?.budgetExhausted) throw new Error('the privacy budget did not stop training');
    if (!train.shadowRoot!.querySelector('[part="budget"]')?.textContent.includes('privacy budget ε = 4 is spent')) throw new Error('the budget message is not shown');
  },
};

/**
 * A language model (GPT nano) trained on this device on a text file: the text's beginning as a preview, and
 * perplexity charted on a log scale instead of accuracy (a file that is not `.txt` would be refused).
 */
export const LanguageModel: Story = {
  args: { 'task-id': 'sonnets', scheme: 'local', epochs: 2 },
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [sonnetFile(), wrongColumnsFile()];
    await train.filesChecked;
    if (!train.shadowRoot!.querySelector('[part="file invalid"]')?.textContent.includes('not a text file (.txt)')) throw new Error('the .csv file was not refused');
    train.files = [sonnetFile()];
    await train.filesChecked;
    await train.start();
    await train.updateComplete;
    if (!train.shadowRoot!.querySelector('#epoch-perplexity')) throw new Error('perplexity is not charted');
    if (!train.shadowRoot!.querySelector('[part="result"]')?.textContent.includes('Perplexity on held-out text')) throw new Error('the perplexity is not reported');
  },
};

/**
 * Asynchronous federated training (FedBuff) between two participants of this page: no round waits; each update
 * is taken when it arrives, a new version every 2 updates. The progress shows the model version and how many
 * versions late each participant's last update arrived (its staleness).
 */
export const Asynchronous: Story = {
  args: { 'task-id': 'titanic-async', scheme: 'federated', epochs: undefined },
  render: sideBySide('Participant', 'federated'),
  play: async (context) => {
    await Collaborative.play!(context);
    const trains = [...context.canvasElement.querySelectorAll<DiscoTrain>('disco-train')];
    await Promise.all(trains.map((train) => train.updateComplete));
    if (!trains.every((train) => train.shadowRoot!.querySelector('[part="async"]')?.textContent.includes('Model version'))) throw new Error('the model version is not shown');
  },
};

/** The server cannot be reached. */
export const ErrorState: Story = { name: 'Error', args: { api: downApi } };

/** Dark palette. */
export const Dark: Story = { ...Ready, args: { theme: 'dark' } };

/** Against a running `disco serve`: choose files and train with the server's other participants. */
export const Live: Story = {
  args: { api: undefined, server: defaultServer, scheme: '', epochs: undefined },
  parameters: liveDocs,
  // The server's Titanic task, and files checked against it: ready to join its next round.
  play: async ({ canvasElement }) => {
    const train = trainIn(canvasElement);
    train.files = [titanicFile(0, 1, 'titanic.csv')];
    await train.filesChecked;
    if (!train.loadedTask) throw new Error(`No task from ${defaultServer}`);
    await expectFromServer(train, 'titanic.csv');
  },
};
