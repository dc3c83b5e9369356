import type { Task } from '../task/schema.js';
import type { Dataset } from './dataset.js';
import { checkDataEntries, loadDataEntries, type DataEntry, type DataFileReport, type LoadDataOptions } from './files.js';
import { browserImageDecoder } from './image-decode-browser.js';

/** Reads picked files into memory, named by their path in a picked folder (`webkitRelativePath`) if any. */
async function entriesOf(files: readonly File[]): Promise<DataEntry[]> {
  return Promise.all(files.map(async (file) => ({ name: file.webkitRelativePath || file.name, bytes: new Uint8Array(await file.arrayBuffer()) })));
}

/**
 * Loads the files a user picked (an `<input type="file" multiple webkitdirectory>` or a drop) for a task.
 * Images are labelled by their folder, so pick the folder holding the class folders. Any bad file stops
 * the load with a DataError listing every bad file; use {@link validateDataFiles} for a per-file preview.
 * Images are decoded by {@link browserImageDecoder} unless `options.decode` says otherwise.
 */
export async function loadDataFiles(files: readonly File[], task: Task, options: LoadDataOptions = {}): Promise<Dataset> {
  return loadDataEntries(await entriesOf(files), task, { decode: browserImageDecoder, ...options });
}

/** Checks each picked file for the task: the examples it adds, or its problems (`error`), for the UI to show beside it. */
export async function validateDataFiles(files: readonly File[], task: Task, options: LoadDataOptions = {}): Promise<DataFileReport[]> {
  return checkDataEntries(await entriesOf(files), task, { decode: browserImageDecoder, ...options });
}
