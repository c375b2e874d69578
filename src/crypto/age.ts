/**
 * age (age-encryption.org) encryption of key shares to operators' public keys, through the
 * `age-encryption` package (typage, by age's author, over the audited noble libraries) — no age code of
 * our own. Trent encrypts to recipients (`age1…`); operators decrypt with the age CLI
 * (`age -d -i key.txt`) or `trent operator unseal --age-identity`, which uses decryptWithAgeIdentity.
 */
// Loaded when shares are encrypted or decrypted (init, rekey, unseal with --age-identity), not at start-up.
const age = () => import('age-encryption');

export class AgeRecipientError extends Error {}
export class AgeDecryptError extends Error {}

/** The armored age file of `plaintext` for one recipient. */
export async function encryptToAgeRecipient(recipient: string, plaintext: Uint8Array): Promise<string> {
  if (!/^age1[0-9a-z]{20,2000}$/.test(recipient)) throw new AgeRecipientError('an age recipient starts with age1 (an age public key)');
  const { armor, Encrypter } = await age();
  const plain = new Uint8Array(plaintext);
  try {
    const e = new Encrypter();
    e.addRecipient(recipient);
    return armor.encode(await e.encrypt(plain));
  } catch {
    throw new AgeRecipientError(`not a valid age recipient: ${recipient}`);
  } finally {
    plain.fill(0);
  }
}

/** Decrypts an armored age file with an identity (`AGE-SECRET-KEY-1…`); zero the result when done. */
export async function decryptWithAgeIdentity(identity: string, armored: string): Promise<Buffer> {
  const { armor, Decrypter } = await age();
  try {
    const d = new Decrypter();
    d.addIdentity(identity.trim());
    const out = await d.decrypt(armor.decode(armored));
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    throw new AgeDecryptError('the age file did not decrypt with this identity');
  }
}
