import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { createSignallingApi } from '@disco/client';
import { initBackend } from '../backend/init-backend.js';
import { DecentralizedClient } from './decentralized.js';
import { shardDataset } from '../data/operations.js';
import { parseTabular } from '../data/tabular.js';
import { getFlatWeights } from '../model/index.js';
import type { TrainingEvent } from '../training/events.js';

const wasmPaths = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

it('two peers in one page and a Node peer train one decentralized round together over WebRTC', async () => {
  expect(await initBackend({ wasmPaths })).to.equal('wasm');
  // A Disco server with a Node peer, in a process of its own (wtr-peers-plugin.mjs).
  const { url } = await executeServerCommand<{ url: string }, undefined>('disco-peers-start');
  try {
    const csv = await (await fetch('/packages/core/assets/titanic/titanic.csv')).text();
    const clients = [0, 1].map(
      (i) =>
        new DecentralizedClient({
          api: createSignallingApi(url),
          taskId: 'titanic-p2p',
          dataset: (task) => shardDataset(parseTabular(csv, task), 3, { seed: 7 })[i],
          validation: 0,
        }),
    );
    const events: TrainingEvent[][] = [[], []];

    await Promise.all(clients.map(async (client, i) => {
      for await (const event of client.run()) events[i].push(event);
    }));

    const node = await executeServerCommand<{ type: string; weights?: number[]; message?: string }, undefined>('disco-peers-result');
    expect(node.type, node.message).to.equal('result');
    for (const [i, list] of events.entries()) {
      const round = list.find((e) => e.type === 'round');
      expect(round, `page peer ${i}`).to.include({ round: 1, participants: 3 });
      const peers = list.filter((e): e is Extract<TrainingEvent, { type: 'peers' }> => e.type === 'peers');
      // Connected to both others while the round ran (at the end they leave one by one).
      expect(Math.max(...peers.map((e) => e.connected))).to.equal(2);
      // The two others' models at least (float32: 4 bytes a parameter).
      expect(peers.at(-1)!.bytesReceived).to.be.greaterThan(2 * 4 * getFlatWeights(clients[i].model!).values.length);
      expect(list.at(-1)?.type).to.equal('done');
    }
    // All three aggregated the same three models.
    const mine = clients.map((c) => getFlatWeights(c.model!).values);
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, j) => Math.abs(v - b[j])));
    expect(diff(mine[0], mine[1])).to.equal(0);
    expect(diff(mine[0], node.weights!)).to.equal(0);
  } finally {
    await executeServerCommand('disco-peers-stop');
  }
});
