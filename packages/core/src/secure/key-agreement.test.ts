import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contextInfo,
  deriveSharedSeed,
  exportPrivateScalar,
  generateAgreementKeyPair,
  importPrivateScalar,
  importPublicKey,
  PUBLIC_KEY_BYTES,
  type AgreementContext,
} from './key-agreement.js';

const context: AgreementContext = { taskId: 'titanic', round: 3, pair: ['alice', 'bob'], purpose: 'mask' };

test('both members of a pair derive the same 32-byte seed from each other’s raw public keys', async () => {
  const [alice, bob] = await Promise.all([generateAgreementKeyPair(), generateAgreementKeyPair()]);
  assert.equal(alice.publicKey.length, PUBLIC_KEY_BYTES);
  assert.equal(alice.publicKey[0], 4);
  const fromAlice = await deriveSharedSeed(alice.privateKey, bob.publicKey, context);
  const fromBob = await deriveSharedSeed(bob.privateKey, alice.publicKey, { ...context, pair: ['bob', 'alice'] });
  assert.equal(fromAlice.length, 32);
  assert.deepEqual(fromAlice, fromBob);
});

test('the seed is bound to the task, the round, the pair and the purpose', async () => {
  const [alice, bob] = await Promise.all([generateAgreementKeyPair(), generateAgreementKeyPair()]);
  const base = await deriveSharedSeed(alice.privateKey, bob.publicKey, context);
  const variants: AgreementContext[] = [
    { ...context, taskId: 'mnist' },
    { ...context, round: 4 },
    { ...context, pair: ['alice', 'carol'] },
    { ...context, purpose: 'channel' },
  ];
  for (const variant of variants) assert.notDeepEqual(await deriveSharedSeed(alice.privateKey, bob.publicKey, variant), base);
});

test('the context is length-prefixed, so ids cannot be shifted across fields', () => {
  const a = new TextDecoder().decode(contextInfo({ ...context, pair: ['a|b', 'c'] }));
  const b = new TextDecoder().decode(contextInfo({ ...context, pair: ['a', 'b|c'] }));
  assert.notEqual(a, b);
});

test('a private scalar exported and imported back with its public key agrees the same secrets', async () => {
  const [alice, bob] = await Promise.all([generateAgreementKeyPair(), generateAgreementKeyPair()]);
  const scalar = await exportPrivateScalar(alice.privateKey);
  assert.equal(scalar.length, 32);
  const restored = await importPrivateScalar(scalar, alice.publicKey);
  assert.deepEqual(await deriveSharedSeed(restored, bob.publicKey, context), await deriveSharedSeed(alice.privateKey, bob.publicKey, context));
});

test('bytes that are not a P-256 point are refused as a public key', async () => {
  const bad = new Uint8Array(PUBLIC_KEY_BYTES);
  bad[0] = 4;
  await assert.rejects(importPublicKey(bad), /not a P-256 public key/);
  await assert.rejects(importPrivateScalar(new Uint8Array(31), bad), /32 bytes/);
});
