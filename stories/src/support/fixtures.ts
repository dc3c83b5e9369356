// What the static stories show: core's built-in tasks on the elements' in-browser fake API, with a
// plausible history, and the real Titanic data. No server is involved (see the Live stories for one).
import { mnist, cifar10, parseTask, titanic, type Task } from '@disco/core';
import { closedRound } from '@disco/core/testing';
import { applyPreset, DiscoApiError, FakeDiscoApi, type FakeDiscoApiOptions, type RoundInfo } from '@disco/elements';
import titanicCsv from '../../../packages/core/assets/titanic/titanic.csv?raw';

export { titanicCsv };

/** Short rounds so that the collaborative stories finish in seconds. */
export const quickTitanic: Task = parseTask({
  ...titanic,
  id: 'titanic-quick',
  title: 'Titanic, three quick rounds',
  training: { ...titanic.training, epochsPerRound: 2, rounds: 3 },
});

/** Titanic trained peer to peer: the server only introduces the participants; two are needed per round. */
export const peerTitanic: Task = parseTask({
  ...titanic,
  id: 'titanic-p2p',
  title: 'Titanic, peer to peer',
  scheme: 'decentralized',
  minParticipants: 2,
  training: { ...titanic.training, epochsPerRound: 2, rounds: 3 },
});

/** Titanic with the form's "Secure aggregation" preset: masked updates, clipped to 1, at least 3 per round. */
export const secureTitanic: Task = parseTask(applyPreset({ ...titanic, id: 'titanic-secure', title: 'Titanic, secure aggregation' }, 'secure'));

/** Titanic with the form's "Secure aggregation + differential privacy (ε ≤ 8)" preset. */
export const secureDpTitanic: Task = parseTask(
  applyPreset({ ...titanic, id: 'titanic-secure-dp', title: 'Titanic, secure aggregation and differential privacy' }, 'secure-dp'),
);

/** Titanic with central differential privacy (the server clips and noises), a budget of ε = 8, some of it spent. */
export const dpTitanic: Task = parseTask({
  ...titanic,
  id: 'titanic-dp',
  title: 'Titanic, differential privacy',
  privacy: { clippingNorm: 1, noiseMultiplier: 2, budget: { epsilon: 8 } },
});

/**
 * Titanic with central differential privacy and a budget that 2 rounds spend (z = 2 costs ε = 2.526, then
 * 3.645, at δ = 1e-5), one participant per round: training stops early, and says why.
 */
export const budgetTitanic: Task = parseTask({
  ...titanic,
  id: 'titanic-budget',
  title: 'Titanic, a small privacy budget',
  minParticipants: 1,
  training: { ...titanic.training, epochsPerRound: 2, rounds: 5 },
  privacy: { clippingNorm: 1, noiseMultiplier: 2, budget: { epsilon: 4 } },
});

/**
 * A language model of sonnets: plain text files, the smallest GPT (nano) reading 16 tokens at a time, short
 * epochs, so that a story trains it in seconds in the worker.
 */
export const sonnetsTask: Task = parseTask({
  id: 'sonnets',
  title: 'Sonnets, a small language model',
  description: 'A language model that learns to continue **sonnets**, trained on the participants’ own text files.',
  dataFormat: 'Plain text files (`.txt`, UTF-8).',
  dataType: 'text',
  text: { contextLength: 16 },
  model: { source: 'builtin', architecture: 'gpt', gpt: { size: 'nano' } },
  training: { epochsPerRound: 2, rounds: 2, batchSize: 8, learningRate: 0.003 },
  scheme: 'federated',
  minParticipants: 1,
});

/** Titanic trained asynchronously (FedBuff): a new version every 2 updates, nobody waits for the slowest. */
export const asyncTitanic: Task = parseTask({
  ...titanic,
  id: 'titanic-async',
  title: 'Titanic, asynchronous',
  minParticipants: 1,
  mode: 'async',
  async: { bufferSize: 2, maxStaleness: 4 },
  training: { ...titanic.training, epochsPerRound: 1, rounds: 4 },
});

/** Shakespeare's sonnets 18 and 73 (public domain), the text of the language-model stories. */
export const sonnetText = `Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.

That time of year thou mayst in me behold
When yellow leaves, or none, or few, do hang
Upon those boughs which shake against the cold,
Bare ruin'd choirs, where late the sweet birds sang.
`;

/** The sonnets as a participant's text file. */
export const sonnetFile = (name = 'sonnets.txt'): File => new File([sonnetText], name, { type: 'text/plain' });

const hour = 3_600_000;
function history(rounds: number, accuracyFrom: number, accuracyTo: number): RoundInfo[] {
  return Array.from({ length: rounds }, (_, i) => {
    const accuracy = accuracyFrom + ((accuracyTo - accuracyFrom) * i) / Math.max(1, rounds - 1);
    return closedRound(i + 1, { participants: 3 + (i % 2), samples: 900 + 40 * i, metrics: { accuracy, loss: 1 - accuracy }, durationMs: 4200 + 300 * i });
  }).reverse();
}

/** The fake server of the static stories: the built-in tasks with some history. */
export function fakeApi(options: FakeDiscoApiOptions = {}): FakeDiscoApi {
  return new FakeDiscoApi({
    tasks: [titanic, mnist, cifar10, quickTitanic, peerTitanic, secureTitanic, secureDpTitanic, dpTitanic, budgetTitanic, sonnetsTask, asyncTitanic],
    rounds: {
      titanic: history(4, 0.71, 0.79),
      mnist: history(9, 0.82, 0.96),
      // ε after each round as the accountant gives it (q = 1, z = 2, δ = 1e-5).
      'titanic-dp': history(3, 0.66, 0.72).map((round) => ({ ...round, epsilon: [2.526, 3.645, 4.544][round.number - 1], delta: 1e-5 })),
    },
    models: {
      titanic: [4, 3, 2, 1, 0].map((version) => ({
        taskId: 'titanic',
        version,
        round: version || null,
        createdAt: Date.now() - (5 - version) * hour,
        bytes: 3_204,
        weightsPath: `/v1/tasks/titanic/models/${version}/weights`,
      })),
    },
    participants: { titanic: 3, mnist: 12, cifar10: 0 },
    ...options,
  });
}

/** A fake server that never answers: the loading states. */
export const slowApi = (): FakeDiscoApi => fakeApi({ latencyMs: 1e9 });

/** A fake server that cannot be reached: the error states. */
export const downApi = (): FakeDiscoApi =>
  fakeApi({ failWith: new DiscoApiError('NETWORK', 'Cannot reach the Disco server at https://disco.example.org.') });

/** A fake server without any task: the empty states. */
export const emptyApi = (): FakeDiscoApi => new FakeDiscoApi();

/** The Titanic passengers of one participant out of `parts` (every `parts`-th row), as a CSV file. */
export function titanicFile(part = 0, parts = 1, name = 'passengers.csv'): File {
  const [header, ...rows] = titanicCsv.trim().split('\n');
  const mine = rows.filter((_, i) => i % parts === part);
  return new File([[header, ...mine].join('\n')], name, { type: 'text/csv' });
}

/** A CSV whose columns are not the task's. */
export const wrongColumnsFile = (): File =>
  new File(['name,age,city\nAda,36,London\nAlan,41,Manchester\n'], 'contacts.csv', { type: 'text/csv' });

/** Where TF.js finds its wasm binaries in Storybook (main.ts serves them under wasm/). */
export const wasmPath = new URL('wasm/', document.baseURI).href;
