import type { DataFile } from '../worker/protocol.js';

/** Picked files → {@link DataFile}s, keeping the path inside a picked folder. */
export function pickedFiles(files: Iterable<File> | ArrayLike<File>): DataFile[] {
  return Array.from(files as ArrayLike<File>).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/**
 * Dropped items → {@link DataFile}s, walking dropped folders (their files keep the folder path, e.g.
 * `digits/7/a.png`, which labels images). Falls back to the plain file list where entries are not
 * available.
 */
export async function droppedFiles(transfer: DataTransfer): Promise<DataFile[]> {
  const entries = Array.from(transfer.items ?? [])
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null))
    .filter((entry): entry is FileSystemEntry => !!entry);
  if (entries.length === 0) return pickedFiles(transfer.files);
  const out: DataFile[] = [];
  for (const entry of entries) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: DataFile[]): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, '');
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, out);
  }
}

/** Whether a file looks like an image, by type or name. */
export function isImageFile(file: DataFile): boolean {
  return file.file.type.startsWith('image/') || /\.(png|jpe?g|gif|webp|bmp)$/i.test(file.path);
}

/** Whether a file looks like a CSV, by name. */
export function isCsvFile(file: DataFile): boolean {
  return /\.(csv|tsv|txt)$/i.test(file.path);
}

/** Whether a file is plain text for a language model: a `.txt` name (what core's text loader reads). */
export function isTextFile(file: DataFile): boolean {
  return /\.txt$/i.test(file.path);
}
