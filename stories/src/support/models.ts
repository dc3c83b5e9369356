// Model libraries for the stories: separate IndexedDB databases per story, filled with models trained
// here on the real Titanic data (on the page's main thread, once per page load).
import { buildModel, initBackend, mnist, modelToArtifacts, parseTabular, titanic, trainLocally, type Task } from '@disco/core';
import { ModelStore, type StoredModelFiles, type StoredModelInfo } from '@disco/elements';
import { sonnetsTask, titanicCsv, wasmPath } from './fixtures.js';

let trainedTitanic: Promise<{ files: StoredModelFiles; accuracy: number }> | undefined;
const epochs = 6;

/**
 * Where the trained model is kept between page loads of this browser (Storybook's UI loads the page once,
 * but `scripts/check-stories.mjs` loads it for every story): reused while the task and the epochs are the same.
 */
const trainedModels = new ModelStore('storybook-trained');

/** A Titanic model trained for a few epochs on three quarters of the passengers. */
function titanicModel(): Promise<{ files: StoredModelFiles; accuracy: number }> {
  trainedTitanic ??= (async () => {
    await initBackend({ wasmPaths: wasmPath });
    const [header, ...rows] = titanicCsv.trim().split('\n');
    const training = rows.filter((_, i) => i % 4 !== 0);
    const same = JSON.stringify({ ...titanic, epochs, samples: training.length });
    const cached = (await trainedModels.list()).find((info) => JSON.stringify({ ...info.task, epochs, samples: info.samples }) === same);
    const stored = cached && (await trainedModels.get(cached.id));
    if (stored) return { files: stored.files, accuracy: stored.metrics.accuracy ?? 0 };

    const model = buildModel(titanic);
    let accuracy = 0;
    const dataset = parseTabular([header, ...training].join('\n'), titanic);
    for await (const event of trainLocally(titanic, dataset, { model, epochs })) if (event.type === 'done') accuracy = event.metrics.accuracy ?? 0;
    const files = await modelToArtifacts(model);
    await trainedModels.save({ taskId: titanic.id, taskTitle: titanic.title, task: titanic, scheme: 'local', samples: training.length, metrics: { accuracy } }, files);
    return { files, accuracy };
  })();
  return trainedTitanic;
}

/** The quarter of the Titanic passengers the story model never saw, with or without the answer column. */
export function heldOutTitanic(labelled = true): File {
  const [header, ...rows] = titanicCsv.trim().split('\n');
  const lines = [header, ...rows.filter((_, i) => i % 4 === 0)];
  const text = labelled ? lines.join('\n') : lines.map((line) => line.replace(/^(\d+),\d*,/, '$1,')).join('\n').replace(/^PassengerId,Survived,/, 'PassengerId,');
  return new File([text], labelled ? 'held-out.csv' : 'new-passengers.csv', { type: 'text/csv' });
}

/** An emptied library of its own for a story. */
export async function freshStore(name: string): Promise<ModelStore> {
  const store = new ModelStore(`storybook-${name}`);
  for (const model of await store.list()) await store.delete(model.id);
  return store;
}

const day = 86_400_000;

/** A library with a trained Titanic model (returned as `modelId`) and two older ones. */
export async function storeWithModels(name: string): Promise<{ store: ModelStore; modelId: string }> {
  const store = await freshStore(name);
  const { files, accuracy } = await titanicModel();
  const save = (task: Task, extra: Partial<StoredModelInfo>, modelFiles: StoredModelFiles) =>
    store.save({ taskId: task.id, taskTitle: task.title, task, metrics: {}, ...extra }, modelFiles);
  await save(mnist, { createdAt: Date.now() - 9 * day, scheme: 'federated', samples: 6000, metrics: { accuracy: 0.953, loss: 0.16 } }, await modelToArtifacts(buildModel(mnist)));
  await save(titanic, { createdAt: Date.now() - 2 * day, scheme: 'local', samples: 654, metrics: { accuracy: 0.771, loss: 0.49 } }, files);
  const modelId = await save(titanic, { scheme: 'federated', samples: 981, metrics: { accuracy, loss: 0.45 } }, files);
  return { store, modelId };
}

/**
 * A library with a language model of the sonnets task (returned as `modelId`): the seeded, untrained GPT nano,
 * whose continuations are still gibberish but stream as a trained model's would.
 */
export async function storeWithLanguageModel(name: string): Promise<{ store: ModelStore; modelId: string }> {
  const store = await freshStore(name);
  await initBackend({ wasmPaths: wasmPath });
  const model = buildModel(sonnetsTask);
  const files = await modelToArtifacts(model);
  model.dispose();
  const modelId = await store.save({ taskId: sonnetsTask.id, taskTitle: sonnetsTask.title, task: sonnetsTask, scheme: 'local', samples: 12, metrics: {} }, files);
  return { store, modelId };
}

/** A library whose reads never finish (the loading state). */
export class PendingStore extends ModelStore {
  override list(): Promise<StoredModelInfo[]> {
    return new Promise(() => {});
  }
  override info(): Promise<StoredModelInfo | undefined> {
    return new Promise(() => {});
  }
}

/** A library that cannot be read (the error state), as when IndexedDB is blocked. */
export class BrokenStore extends ModelStore {
  override async list(): Promise<StoredModelInfo[]> {
    throw new DOMException('IndexedDB is not available in this browsing mode.', 'InvalidStateError');
  }
  override async info(): Promise<StoredModelInfo | undefined> {
    throw new DOMException('IndexedDB is not available in this browsing mode.', 'InvalidStateError');
  }
}
