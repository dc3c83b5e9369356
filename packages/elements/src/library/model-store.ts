import { createStore, del, get, getMany, keys, setMany, type UseStore } from 'idb-keyval';
import type { Scheme, Task } from '@disco/core';
import type { FinalMetrics } from '../events.js';

/** A TF.js LayersModel as its two standard files (the shape of core's `ModelFiles`). */
export interface StoredModelFiles {
  /** The parsed `model.json`; its weights manifest points at `./weights.bin`. */
  modelJson: object;
  weightsBin: Uint8Array;
}

/** What the library shows of a model. */
export interface StoredModelInfo {
  id: string;
  taskId: string;
  taskTitle: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Final metrics of the training that produced it. */
  metrics: FinalMetrics;
  /** The task it was trained for, so that it can be evaluated without a server. */
  task?: Task;
  scheme?: Scheme;
  /** Training examples it saw on this device. */
  samples?: number;
  /** Size of `weights.bin` in bytes. */
  sizeBytes: number;
}

/** A model with its files. */
export interface StoredModel extends StoredModelInfo {
  files: StoredModelFiles;
}

const CHANGE = 'change';
/** Same-page notifications; other tabs hear a BroadcastChannel of the same name. */
const pageEvents = new EventTarget();

/**
 * The trained models of this browser, in IndexedDB through idb-keyval. The small `info/<id>` records are
 * read to list the library; the files (`files/<id>`) only when a model is opened or downloaded. Every
 * instance with the same database name sees the same models, and hears of changes made in any tab.
 *
 * ```ts
 * const id = await defaultModelStore.save({ taskId: 'titanic', taskTitle: 'Titanic', metrics }, files);
 * ```
 */
export class ModelStore {
  readonly dbName: string;
  private readonly store: UseStore;
  private readonly channel: BroadcastChannel | undefined;

  constructor(dbName = 'disco-models') {
    this.dbName = dbName;
    this.store = createStore(dbName, 'models');
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`disco-models:${dbName}`) : undefined;
    this.channel?.addEventListener('message', () => pageEvents.dispatchEvent(new Event(`${CHANGE}:${dbName}`)));
  }

  /** Saves a model; returns its new id. */
  async save(info: Omit<StoredModelInfo, 'id' | 'createdAt' | 'sizeBytes'> & { createdAt?: number }, files: StoredModelFiles): Promise<string> {
    const id = `${info.taskId}-${crypto.randomUUID().slice(0, 8)}`;
    const record: StoredModelInfo = { ...info, id, createdAt: info.createdAt ?? Date.now(), sizeBytes: files.weightsBin.byteLength };
    await setMany(
      [
        [`files/${id}`, files],
        [`info/${id}`, record],
      ],
      this.store,
    );
    this.changed();
    return id;
  }

  /** Every model, newest first. */
  async list(): Promise<StoredModelInfo[]> {
    const infoKeys = (await keys<string>(this.store)).filter((k) => k.startsWith('info/'));
    const infos = await getMany<StoredModelInfo>(infoKeys, this.store);
    return infos.filter((info): info is StoredModelInfo => info !== undefined).sort((a, b) => b.createdAt - a.createdAt);
  }

  /** A model with its files, or `undefined`. */
  async get(id: string): Promise<StoredModel | undefined> {
    const [info, files] = await getMany<StoredModelInfo | StoredModelFiles | undefined>([`info/${id}`, `files/${id}`], this.store);
    return info && files ? { ...(info as StoredModelInfo), files: files as StoredModelFiles } : undefined;
  }

  /** The info of a model, or `undefined`. */
  async info(id: string): Promise<StoredModelInfo | undefined> {
    return get<StoredModelInfo>(`info/${id}`, this.store);
  }

  async delete(id: string): Promise<void> {
    await del(`info/${id}`, this.store);
    await del(`files/${id}`, this.store);
    this.changed();
  }

  /** Calls `listener` after any change to this library, in this tab or another; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    const type = `${CHANGE}:${this.dbName}`;
    pageEvents.addEventListener(type, listener);
    return () => pageEvents.removeEventListener(type, listener);
  }

  private changed(): void {
    pageEvents.dispatchEvent(new Event(`${CHANGE}:${this.dbName}`));
    this.channel?.postMessage('change');
  }
}

/** The library the elements share unless given another `store`. */
export const defaultModelStore = new ModelStore();

/** Offers the two files of a model for download, under the names TF.js expects side by side. */
export function downloadModelFiles(files: StoredModelFiles, documentRef: Document = document): void {
  const save = (blob: Blob, name: string) => {
    const url = URL.createObjectURL(blob);
    const a = documentRef.createElement('a');
    a.href = url;
    a.download = name;
    a.style.display = 'none';
    documentRef.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  save(new Blob([JSON.stringify(files.modelJson)], { type: 'application/json' }), 'model.json');
  save(new Blob([files.weightsBin as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), 'weights.bin');
}
