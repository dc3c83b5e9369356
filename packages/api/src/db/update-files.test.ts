// UpdateFiles (decision 0016): SQLite's files of accepted updates, one per update in a folder per round beside
// the database file, until their round closes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openDb, updateFiles } from './client.js';
import { UpdateFiles } from './update-files.js';

/** A fresh folder for one test's database file, removed after the test. */
function folder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'disco-update-files-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

test('a written update is a file of its round beside the database, read back byte for byte', async (t) => {
  const dir = folder(t);
  const files = UpdateFiles.forDatabase(path.join(dir, 'disco.sqlite'));
  const message = bytes(1000, 1);

  const name = await files.write(12, message);

  assert.equal(files.root, path.join(dir, 'disco.sqlite.updates'));
  assert.match(name, /^12\/[0-9a-f-]{36}\.update$/);
  assert.deepEqual(new Uint8Array(readFileSync(path.join(files.root, name))), message, 'the file holds the message as received');
  const buffer = { bytes: Buffer.alloc(0) };
  assert.deepEqual(new Uint8Array((await files.read(name, buffer))!), message);
  assert.ok(files.wroteItself(name));
});

test('read reuses the buffer it is given when it is large enough and grows it otherwise', async (t) => {
  const files = UpdateFiles.forDatabase(path.join(folder(t), 'disco.sqlite'));
  const large = bytes(4096, 3);
  const small = bytes(100, 5);
  const larger = bytes(8192, 9);
  const [a, b, c] = [await files.write(1, large), await files.write(1, small), await files.write(1, larger)];
  const buffer = { bytes: Buffer.alloc(0) };

  const first = await files.read(a, buffer);
  const grown = buffer.bytes;
  const second = await files.read(b, buffer);

  assert.ok(grown.byteLength >= large.byteLength, 'grown from an empty buffer');
  assert.equal(buffer.bytes, grown, 'a smaller file is read into the same buffer');
  assert.equal(second!.buffer, grown.buffer, 'the bytes read are a view of that buffer');
  assert.equal(second!.byteLength, small.byteLength, 'only the bytes of the file, not the whole buffer');
  assert.deepEqual(new Uint8Array(second!), small);
  // The first view shares the reused buffer: its start now holds the second file (the documented contract).
  assert.deepEqual(new Uint8Array(first!.subarray(0, small.byteLength)), small);

  const third = await files.read(c, buffer);
  assert.notEqual(buffer.bytes, grown, 'a larger file grows the buffer');
  assert.ok(buffer.bytes.byteLength >= larger.byteLength);
  assert.deepEqual(new Uint8Array(third!), larger);
});

test('reading a missing file gives undefined; remove and removeRound delete what they name', async (t) => {
  const files = UpdateFiles.forDatabase(path.join(folder(t), 'disco.sqlite'));
  const buffer = { bytes: Buffer.alloc(0) };
  const kept = await files.write(3, bytes(10, 1));
  const refused = await files.write(3, bytes(10, 2));
  const other = await files.write(4, bytes(10, 3));

  assert.equal(await files.read('3/00000000-0000-0000-0000-000000000000.update', buffer), undefined);
  await files.remove(refused);

  assert.equal(existsSync(path.join(files.root, refused)), false, 'the removed file is gone');
  assert.equal(await files.read(refused, buffer), undefined);
  assert.equal(files.wroteItself(refused), false, 'a removed file is no longer one this process trusts');
  assert.ok(existsSync(path.join(files.root, kept)), 'the other file of the round stays');
  await files.remove(refused); // twice: nothing to remove, no error

  await files.removeRound(3);

  assert.equal(existsSync(path.join(files.root, '3')), false, "the round's folder is gone");
  assert.equal(files.wroteItself(kept), false);
  assert.ok(existsSync(path.join(files.root, other)), "another round's file stays");
  assert.ok(files.wroteItself(other));
  // The round's folder is made again when a file of it is written after its removal.
  const again = await files.write(3, bytes(10, 4));
  assert.deepEqual(new Uint8Array((await files.read(again, buffer))!), bytes(10, 4));
});

test("a write whose round's folder was removed meanwhile (the round closing) makes it again instead of failing", async (t) => {
  const files = UpdateFiles.forDatabase(path.join(folder(t), 'disco.sqlite'));
  await files.write(4, bytes(10, 1));
  // What a close's removeRound does between a late update's folder check and its open().
  rmSync(path.join(files.root, '4'), { recursive: true });
  const name = await files.write(4, bytes(10, 2));
  assert.deepEqual(new Uint8Array(readFileSync(path.join(files.root, name))), bytes(10, 2));
});

test('wroteItself is true only for files this instance of the store wrote', async (t) => {
  const database = path.join(folder(t), 'disco.sqlite');
  const before = UpdateFiles.forDatabase(database);
  const name = await before.write(7, bytes(20, 1));
  // Another process on the same database (after a restart): the file is there, but it did not write it.
  const after = UpdateFiles.forDatabase(database);

  assert.equal(before.wroteItself(name), true);
  assert.equal(after.wroteItself(name), false);
  assert.deepEqual(new Uint8Array((await after.read(name, { bytes: Buffer.alloc(0) }))!), bytes(20, 1), 'it reads it all the same');
});

test('a name that is not one of ours is refused, not followed', async (t) => {
  const dir = folder(t);
  const files = UpdateFiles.forDatabase(path.join(dir, 'disco.sqlite'));
  // A file outside the store that a crafted row could name.
  writeFileSync(path.join(dir, 'x'), 'outside');
  const buffer = { bytes: Buffer.alloc(0) };

  for (const name of ['../x', '1/../../x', '/etc/passwd', '1/abc.update', '1/00000000-0000-0000-0000-000000000000.update/../../../x', ''])
    await assert.rejects(files.read(name, buffer), /not an update file name/, JSON.stringify(name));
  await assert.rejects(files.remove('../x'), /not an update file name/);
  assert.ok(existsSync(path.join(dir, 'x')), 'remove did not delete a file outside the store');
});

test('sweep removes the folders of rounds not live and old unnamed files; it keeps named, self-written and fresh ones', async (t) => {
  const database = path.join(folder(t), 'disco.sqlite');
  const writer = UpdateFiles.forDatabase(database);
  const named = await writer.write(1, bytes(10, 1));
  const unnamed = await writer.write(1, bytes(10, 2));
  const fresh = await writer.write(1, bytes(10, 3));
  const ofClosedRound = await writer.write(2, bytes(10, 4));
  // Something that is not a round's folder: a stray file at the root, a folder with another name.
  writeFileSync(path.join(writer.root, 'stray'), 'x');
  mkdirSync(path.join(writer.root, 'not-a-round'));
  const now = Date.now();
  const old = (now - 120_000) / 1000;
  for (const name of [named, unnamed]) utimesSync(path.join(writer.root, name), old, old);
  // As at a start: another instance of the store (nothing written by it), round 1 live and naming one file.
  const files = UpdateFiles.forDatabase(database);

  files.sweep(new Map([[1, new Set([named])]]), now, 60_000);

  assert.deepEqual(readdirSync(files.root), ['1'], 'only the live round is left');
  assert.deepEqual(readdirSync(path.join(files.root, '1')).sort(), [named, fresh].map((name) => name.slice(2)).sort());
  assert.equal(existsSync(path.join(files.root, unnamed)), false, 'an old file no row names is removed');
  assert.equal(existsSync(path.join(files.root, ofClosedRound)), false);

  // Past the grace period, the unnamed file goes too; a file this instance wrote stays though no row names it yet.
  const own = await files.write(1, bytes(10, 5));
  const later = now + 10 * 60_000;
  files.sweep(new Map([[1, new Set([named])]]), later, 60_000);
  assert.deepEqual(readdirSync(path.join(files.root, '1')).sort(), [named, own].map((name) => name.slice(2)).sort());

  // No round live: everything goes, the root stays.
  files.sweep(new Map());
  assert.deepEqual(readdirSync(files.root), []);
  assert.ok(statSync(files.root).isDirectory());
});

test("a :memory: database's store is a temporary folder removed by close; a database file's store stays", async (t) => {
  const temporary = UpdateFiles.forDatabase(':memory:');
  await temporary.write(1, bytes(10, 1));
  assert.ok(existsSync(temporary.root));
  assert.ok(temporary.root.startsWith(tmpdir()));
  temporary.close();
  assert.equal(existsSync(temporary.root), false);

  const database = path.join(folder(t), 'disco.sqlite');
  const lasting = UpdateFiles.forDatabase(database);
  const name = await lasting.write(1, bytes(10, 2));
  lasting.close();
  assert.ok(existsSync(path.join(lasting.root, name)), 'the update outlives the process, for the next start');
});

test("openDb gives a SQLite database its store: removed with a :memory: one, kept beside a database file", async (t) => {
  const memory = await openDb(':memory:');
  const memoryFiles = updateFiles(memory.db);
  assert.ok(memoryFiles && existsSync(memoryFiles.root));
  await memory.close();
  assert.equal(existsSync(memoryFiles.root), false);

  const database = path.join(folder(t), 'disco.sqlite');
  const file = await openDb(database);
  const fileFiles = updateFiles(file.db);
  assert.equal(fileFiles?.root, `${database}.updates`);
  await file.close();
  assert.ok(existsSync(`${database}.updates`));
});
