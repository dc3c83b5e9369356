import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedMutex } from './keyed-mutex.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('bodies of one key run one at a time, in the order they were queued', async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const body = (name: string) => async () => {
    log.push(`${name} start`);
    await tick();
    log.push(`${name} end`);
    return name;
  };

  const results = await Promise.all([mutex.run('task', body('a')), mutex.run('task', body('b')), mutex.run('task', body('c'))]);

  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

test('bodies of different keys run concurrently', async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const body = (name: string) => async () => {
    log.push(`${name} start`);
    await tick();
    log.push(`${name} end`);
  };

  await Promise.all([mutex.run('one', body('a')), mutex.run('two', body('b'))]);

  assert.deepEqual(log, ['a start', 'b start', 'a end', 'b end']);
});

test('a body that throws rejects its own call and the queue goes on', async () => {
  const mutex = new KeyedMutex();

  const failed = mutex.run('task', async () => {
    throw new Error('boom');
  });
  const next = mutex.run('task', async () => 'next');

  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'next');
});

test('idle() resolves once every queued body has finished', async () => {
  const mutex = new KeyedMutex();
  let done = 0;
  for (const key of ['a', 'a', 'b'])
    void mutex.run(key, async () => {
      await tick();
      done += 1;
    });

  await mutex.idle();

  assert.equal(done, 3);
});
