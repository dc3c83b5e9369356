import { expect } from '@open-wc/testing';
import { mnist } from '../task/builtin/mnist.js';
import { titanic } from '../task/builtin/titanic.js';
import { parseTask } from '../task/schema.js';
import { DataError } from './errors.js';
import { loadDataFiles, validateDataFiles } from './browser-files.js';

// Mocha's global, provided by web-test-runner (the package has no @types/mocha).
declare const it: (title: string, test: () => Promise<void> | void) => void;

/** A 28×28 PNG drawn on an OffscreenCanvas. */
async function png(): Promise<Uint8Array<ArrayBuffer>> {
  const canvas = new OffscreenCanvas(28, 28);
  canvas.getContext('2d')!.fillRect(0, 0, 14, 28);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

it('loads picked File objects and previews each file', async () => {
  const files = [
    new File([await png()], 'a.png'),
    new File(['filename,label\na.png,4\n'], 'labels.csv'),
    new File(['hello'], 'notes.txt'),
  ];
  const ds = await loadDataFiles(files.slice(0, 2), mnist);
  expect(Array.from(ds.labels!)).to.deep.equal([4]);
  const report = await validateDataFiles(files, mnist);
  expect(report).to.deep.equal([
    { file: 'a.png', examples: 1 },
    { file: 'labels.csv', examples: 0 },
    { file: 'notes.txt', examples: 0, error: 'notes.txt: not a readable image (PNG or JPEG expected)' },
  ]);
});

it('loads a CSV file for a tabular task and stops at a bad one', async () => {
  const header = 'Name,Cabin,Survived,Pclass,Sex,Age,SibSp,Parch,Fare,Embarked';
  const good = new File([`${header}\nA,,1,1,female,29,0,0,211,S\nA,,0,3,male,,1,0,7.25,\n`], 'passengers.csv');
  const ds = await loadDataFiles([good], titanic);
  expect(ds.count).to.equal(2);
  expect(ds.featureShape).to.deep.equal([19]);
  const bad = new File([`${header}\nA,,1,1,female,abc,0,0,211,S\n`], 'bad.csv');
  let error: unknown;
  try {
    await loadDataFiles([good, bad], titanic);
  } catch (e) {
    error = e;
  }
  expect(error).to.be.instanceOf(DataError);
  expect((error as DataError).message).to.equal('bad.csv, line 2, column "Age": "abc" is not a number');
});

it('loads .txt files for a text task with the GPT-2 tokenizer, and names a file that is not UTF-8', async () => {
  const task = parseTask({
    id: 'toy-text',
    title: 'Toy text',
    description: 'A literal task for tests.',
    dataType: 'text',
    text: { contextLength: 4 },
    model: { source: 'builtin', architecture: 'gpt' },
  });
  const ds = await loadDataFiles([new File(['To be, or not to be'], 'hamlet.txt'), new File(['Hello world'], 'b.txt')], task);
  // To · be · , · or · not · to · be · <|endoftext|> · Hello · world: 9 targets in windows of 4.
  expect(ds.count).to.equal(3);
  expect(Array.from(ds.labels!)).to.deep.equal([307, 11, 393, 407, 284, 307, 50256, 15496, 995, -1, -1, -1]);
  const report = await validateDataFiles([new File(['To be'], 'a.txt'), new File([new Uint8Array([0x43, 0xe6, 0x73])], 'latin1.txt')], task);
  expect(report.map((r) => [r.file, r.examples, r.error?.split(':')[0]])).to.deep.equal([
    ['a.txt', 1, undefined],
    ['latin1.txt', 0, 'latin1.txt'],
  ]);
});
