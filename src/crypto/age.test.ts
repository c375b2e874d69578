import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { AgeDecryptError, AgeRecipientError, decryptWithAgeIdentity, encryptToAgeRecipient } from './age.ts';

test('a share encrypted to a recipient decrypts only with its identity', async () => {
  const identity = await generateIdentity();
  const other = await generateIdentity();
  const file = await encryptToAgeRecipient(await identityToRecipient(identity), Buffer.from('share-text'));
  assert.match(file, /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
  assert.doesNotMatch(file, /share-text/);
  assert.equal((await decryptWithAgeIdentity(identity, file)).toString(), 'share-text');
  await assert.rejects(decryptWithAgeIdentity(other, file), AgeDecryptError);
});

test('something that is not an age recipient is refused', async () => {
  await assert.rejects(encryptToAgeRecipient('ssh-ed25519 AAAA', Buffer.from('x')), AgeRecipientError);
  await assert.rejects(encryptToAgeRecipient('age1' + 'q'.repeat(58), Buffer.from('x')), AgeRecipientError);
});
