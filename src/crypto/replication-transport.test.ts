import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AeadOpenError } from './aead.ts';
import {
  EphemeralAgreement, framedFields, linkAuthKey, signLinkRequest, unwrapFromTransport, verifyLinkRequest, wrapForTransport,
} from './replication-transport.ts';
import { SecretBytes } from './secret-bytes.ts';

const secret = () => SecretBytes.copyOf(Buffer.alloc(32, 7));

test('both sides of an exchange derive the same transport key; another link secret or exchange id derives another', () => {
  const sender = EphemeralAgreement.generate();
  const receiver = EphemeralAgreement.generate();
  const s = sender.transportKey(receiver.publicKey, secret(), 'link', 'x1', sender.publicKey, receiver.publicKey);
  const r = receiver.transportKey(sender.publicKey, secret(), 'link', 'x1', sender.publicKey, receiver.publicKey);
  assert.ok(s.equals(r));
  const otherSecret = receiver.transportKey(sender.publicKey, SecretBytes.copyOf(Buffer.alloc(32, 8)), 'link', 'x1', sender.publicKey, receiver.publicKey);
  assert.ok(!s.equals(otherSecret));
  assert.ok(!s.equals(receiver.transportKey(sender.publicKey, secret(), 'link', 'x2', sender.publicKey, receiver.publicKey)));
});

test('a wrapped secret opens only under the same key and AAD, and its box does not contain it', () => {
  const a = EphemeralAgreement.generate();
  const b = EphemeralAgreement.generate();
  const key = a.transportKey(b.publicKey, secret(), 'l', 'x', a.publicKey, b.publicKey);
  const material = SecretBytes.copyOf(Buffer.from('0123456789abcdef0123456789abcdef'));
  const aad = framedFields('material', 'l', 1, 'key', 1);
  const box = wrapForTransport(key, material, aad);
  assert.equal(box.indexOf(material.expose()), -1);
  assert.ok(unwrapFromTransport(key, box, aad).equals(material));
  assert.throws(() => unwrapFromTransport(key, box, framedFields('material', 'l', 1, 'key', 2)), AeadOpenError);
  const other = b.transportKey(EphemeralAgreement.generate().publicKey, secret(), 'l', 'x', a.publicKey, b.publicKey);
  assert.throws(() => unwrapFromTransport(other, box, aad), AeadOpenError);
});

test('a peer public key of the wrong length or of low order is refused', () => {
  const a = EphemeralAgreement.generate();
  assert.throws(() => a.transportKey(Buffer.alloc(31), secret(), 'l', 'x', a.publicKey, a.publicKey), RangeError);
  assert.throws(() => a.transportKey(Buffer.alloc(32), secret(), 'l', 'x', a.publicKey, a.publicKey));
});

test('request signatures verify only with the same link secret and parts', () => {
  const k = linkAuthKey(secret(), 'l');
  const sig = signLinkRequest(k, ['POST', '/v1/replication/deliver', 'l', 5]);
  assert.ok(verifyLinkRequest(k, ['POST', '/v1/replication/deliver', 'l', 5], sig));
  assert.ok(!verifyLinkRequest(k, ['POST', '/v1/replication/deliver', 'l', 6], sig));
  assert.ok(!verifyLinkRequest(linkAuthKey(SecretBytes.copyOf(Buffer.alloc(32, 1)), 'l'), ['POST', '/v1/replication/deliver', 'l', 5], sig));
  assert.ok(!verifyLinkRequest(k, ['POST', '/v1/replication/deliver', 'l', 5], 'zz'));
  assert.ok(!verifyLinkRequest(k, ['POST', '/v1/replication/deliver', 'l', 5], '00'.repeat(32)));
});
