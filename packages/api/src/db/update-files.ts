import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * SQLite's store for accepted updates until their round closes (decision 0016): one file per update, holding
 * the update as it was received (the weights codec, its checksum included), in one folder per round beside the
 * database file (`<database>.updates/<round id>/`). The update's row names its file (`updates.file`,
 * `async_updates.file`).
 *
 * Why files: a 4 MB blob written into SQLite cost 21–25 ms of the event loop per update and 10–12 ms more to
 * read back at the close (measured), most of the server's time per update; a file is written by libuv's
 * thread pool (~1 ms, off the event loop) and read back in 0.3 ms.
 *
 * Durability is SQLite's with `synchronous = NORMAL` (decision 0014): a file is written before the
 * transaction that records its row commits, so a process crash loses neither; neither is synced, so a power
 * loss may lose either. A file written by another process (before a restart) is checked in full when read
 * (codec checksum, finite values); a missing or damaged one fails its round, as a lost update.
 */
export class UpdateFiles {
  /** Files this process wrote (and has not removed): their bytes are the checked update, read back as they are. */
  private readonly written = new Set<string>();
  private readonly folders = new Set<number>();

  private constructor(
    readonly root: string,
    private readonly temporary: boolean,
  ) {}

  /** The store of the database file `databaseFile` (a temporary folder for `:memory:`, removed by {@link close}). */
  static forDatabase(databaseFile: string): UpdateFiles {
    if (databaseFile === ':memory:') return new UpdateFiles(mkdtempSync(path.join(os.tmpdir(), 'disco-updates-')), true);
    const root = `${path.resolve(databaseFile)}.updates`;
    mkdirSync(root, { recursive: true });
    return new UpdateFiles(root, false);
  }

  /** Writes an update of round `roundId` to a new file and returns its name (for the update's row). */
  async write(roundId: number, message: Uint8Array): Promise<string> {
    const folder = path.join(this.root, String(roundId));
    if (!this.folders.has(roundId)) {
      await mkdir(folder, { recursive: true });
      this.folders.add(roundId);
    }
    // A fresh name each time: two racing submissions of one participant never write the same file.
    const name = `${roundId}/${randomUUID()}.update`;
    // One write call (fs.writeFile would cut 4 MB into eight 512 KiB jobs of the thread pool).
    const handle = await open(path.join(this.root, name), 'w').catch(async (error: NodeJS.ErrnoException) => {
      // The round's close removed its folder meanwhile: written anyway, its recording then refuses it (ROUND_NOT_OPEN).
      if (error.code !== 'ENOENT') throw error;
      await mkdir(folder, { recursive: true });
      return open(path.join(this.root, name), 'w');
    });
    try {
      let written = 0;
      while (written < message.byteLength) written += (await handle.write(message, written, message.byteLength - written, written)).bytesWritten;
    } finally {
      await handle.close();
    }
    this.written.add(name);
    return name;
  }

  /** Whether this process wrote `name`: its bytes passed every check then, and nothing else writes the folder. */
  wroteItself(name: string): boolean {
    return this.written.has(name);
  }

  /**
   * Reads file `name` into `buffer` (grown when too small) and returns the bytes read, a view of the buffer;
   * undefined when the file is missing.
   */
  async read(name: string, buffer: { bytes: Buffer }): Promise<Uint8Array | undefined> {
    let handle;
    try {
      handle = await open(this.pathOf(name), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      // Reused from one file to the next: a fresh 4 MB buffer costs more than the read (decision 0014).
      if (buffer.bytes.byteLength < size) buffer.bytes = Buffer.allocUnsafeSlow(size);
      let read = 0;
      while (read < size) {
        const { bytesRead } = await handle.read(buffer.bytes, read, size - read, read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buffer.bytes.subarray(0, read);
    } finally {
      await handle.close();
    }
  }

  /** Removes one file (an update that was refused after it was written). */
  async remove(name: string): Promise<void> {
    this.written.delete(name);
    await unlink(this.pathOf(name)).catch(() => {});
  }

  /** Removes a round's folder, once the transaction that cleared its rows has committed. */
  async removeRound(roundId: number): Promise<void> {
    const prefix = `${roundId}/`;
    for (const name of this.written) if (name.startsWith(prefix)) this.written.delete(name);
    this.folders.delete(roundId);
    // Retried: an update written late into a closing round (then refused) may appear while the folder goes.
    await rm(path.join(this.root, String(roundId)), { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * Removes what a crash left behind: the folders of rounds not in `live` (closed, failed or deleted before their
   * folder was removed), and in live rounds the files no row names (written before a refusal or a crash), if
   * older than `graceMs` (a file being written now is not named yet).
   */
  sweep(live: Map<number, Set<string>>, now = Date.now(), graceMs = 60_000): void {
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      const roundId = Number(entry.name);
      const folder = path.join(this.root, entry.name);
      const named = live.get(roundId);
      if (!entry.isDirectory() || !Number.isSafeInteger(roundId) || !named) {
        rmSync(folder, { recursive: true, force: true });
        continue;
      }
      for (const file of readdirSync(folder)) {
        const name = `${entry.name}/${file}`;
        if (named.has(name) || this.written.has(name)) continue;
        const full = path.join(folder, file);
        if (now - statSync(full).mtimeMs > graceMs) rmSync(full, { force: true });
      }
    }
  }

  /** Removes a temporary store (`:memory:` databases); a database file's store stays. */
  close(): void {
    if (this.temporary) rmSync(this.root, { recursive: true, force: true });
  }

  private pathOf(name: string): string {
    // Names are ours (`<round>/<uuid>.update`); anything else in a row is refused rather than followed.
    if (!/^\d+\/[0-9a-f-]{36}\.update$/.test(name)) throw new Error(`not an update file name: ${JSON.stringify(name)}`);
    return path.join(this.root, name);
  }
}
