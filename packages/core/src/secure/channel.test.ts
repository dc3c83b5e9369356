import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveChannelKey, openFromPeer, sealForPeer, type ChannelContext } from './channel.js';
import { generateAgreementKeyPair } from './key-agreement.js';

const context: ChannelContext = { taskId: 't', round: 1, from: 'alice', to: 'bob' };

test('what one end seals, the other opens with the key it derives from its own side', async () => {
  const [alice, bob] = await Promise.all([generateAgreementKeyPair(), generateAgreementKeyPair()]);
  const sealed = await sealForPeer(await deriveChannelKey(alice.privateKey, bob.publicKey, context), context, Uint8Array.of(1, 2, 3));
  assert.equal(sealed.length, 12 + 3 + 16);
  const bobKey = await deriveChannelKey(bob.privateKey, alice.publicKey, { ...context, from: 'bob', to: 'alice' });
  assert.deepEqual(await openFromPeer(bobKey, context, sealed), Uint8Array.of(1, 2, 3));
});

test('a sealed message does not open for another round, or with sender and recipient swapped', async () => {
  const [alice, bob] = await Promise.all([generateAgreementKeyPair(), generateAgreementKeyPair()]);
  const key = await deriveChannelKey(alice.privateKey, bob.publicKey, context);
  const sealed = await sealForPeer(key, context, Uint8Array.of(9));
  await assert.rejects(openFromPeer(key, { ...context, from: 'bob', to: 'alice' }, sealed), /do not open/);
  const nextRound = await deriveChannelKey(bob.privateKey, alice.publicKey, { ...context, round: 2 });
  await assert.rejects(openFromPeer(nextRound, { ...context, round: 2 }, sealed), /do not open/);
});
