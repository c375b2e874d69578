/**
 * Asymmetric, HMAC and key-agreement keys through the official AWS SDK, checked against independent
 * implementations: OpenSSL CLI for RSA, ECDSA and Ed25519 signatures (public key from GetPublicKey),
 * node:crypto for RSAES-OAEP and ECDH, and @noble for ML-DSA and Ed25519ph, which OpenSSL 3.0 cannot check.
 * One server for the file; a second SIGN_VERIFY key per RSA size serves as "another key".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createHash, createPublicKey, diffieHellman, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand, DecryptCommand, DeriveSharedSecretCommand, DescribeKeyCommand, EnableKeyRotationCommand, EncryptCommand,
  GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand, GenerateMacCommand, GetPublicKeyCommand, ReEncryptCommand,
  SignCommand, VerifyCommand, VerifyMacCommand,
  type DataKeyPairSpec, type KeySpec, type KeyUsageType, type KMSClient, type MacAlgorithmSpec, type MessageType,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { signingAlgorithmsFor, verify as trentVerify, type AsymmetricKeySpec } from '../../src/kms/key-specs/asymmetric.ts';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { awsError, rawCall, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let kms: KMSClient;
let dir: string;
const keys = new Map<string, { keyId: string; arn: string }>();

async function create(name: string, KeySpec: KeySpec, KeyUsage: KeyUsageType | undefined): Promise<void> {
  const out = await kms.send(new CreateKeyCommand({ KeySpec, ...(KeyUsage ? { KeyUsage } : {}) }));
  keys.set(name, { keyId: out.KeyMetadata!.KeyId!, arn: out.KeyMetadata!.Arn! });
}
const key = (name: string) => keys.get(name)!;

const RSA_SPECS: KeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096'];
const SIGN_SPECS: KeySpec[] = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'ECC_NIST_EDWARDS25519', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
];

before(async () => {
  server = await startServer();
  kms = server.kms();
  dir = mkdtempSync(join(tmpdir(), 'trent-asym-'));
  // The server generates RSA keys synchronously, which on a loaded machine holds its event loop for seconds:
  // made one at a time, they leave no other request queued behind them long enough to hit a storage timeout.
  for (const s of RSA_SPECS) {
    await create(`sign:${s}`, s, 'SIGN_VERIFY');
    await create(`sign2:${s}`, s, 'SIGN_VERIFY');
  }
  await create('enc:RSA_2048', 'RSA_2048', 'ENCRYPT_DECRYPT');
  await create('enc:RSA_3072', 'RSA_3072', 'ENCRYPT_DECRYPT');
  await Promise.all([
    ...SIGN_SPECS.filter((s) => !RSA_SPECS.includes(s)).map((s) => create(`sign:${s}`, s, 'SIGN_VERIFY')),
    ...(['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521'] as KeySpec[]).map((s) => create(`ka:${s}`, s, 'KEY_AGREEMENT')),
    ...(['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as KeySpec[]).map((s) => create(`mac:${s}`, s, 'GENERATE_VERIFY_MAC')),
    create('sym', 'SYMMETRIC_DEFAULT', undefined),
  ]);
});
after(async () => {
  await server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * AWS sends these errors with an empty message; the JS SDK then reports the message as 'UnknownError'.
 * The wire body itself is checked by the rawCall test below.
 */
function assertEmptyError(e: { name: string; message: string }, name: string): void {
  assert.equal(e.name, name);
  assert.ok(e.message === '' || e.message === 'UnknownError', `message ${JSON.stringify(e.message)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Helpers: files for OpenSSL

let fileNo = 0;
function file(bytes: Uint8Array | string): string {
  const path = join(dir, `f${fileNo++}`);
  writeFileSync(path, bytes);
  return path;
}
function pem(der: Uint8Array, label: 'PUBLIC KEY' | 'PRIVATE KEY'): string {
  const b64 = Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
function openssl(args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString() };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: Buffer }).stderr ?? err) };
  }
}

type Hash = 'sha256' | 'sha384' | 'sha512';
const HASH_OF: Partial<Record<SigningAlgorithmSpec, Hash>> = {
  RSASSA_PSS_SHA_256: 'sha256', RSASSA_PSS_SHA_384: 'sha384', RSASSA_PSS_SHA_512: 'sha512',
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256', RSASSA_PKCS1_V1_5_SHA_384: 'sha384', RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
  ECDSA_SHA_256: 'sha256', ECDSA_SHA_384: 'sha384', ECDSA_SHA_512: 'sha512',
};

/** Verifies with OpenSSL CLI (RSA, ECDSA, Ed25519) or @noble (ML-DSA, Ed25519ph). */
function independentlyValid(alg: SigningAlgorithmSpec, type: MessageType, spki: Uint8Array, message: Buffer, signed: Buffer, sig: Uint8Array): boolean {
  if (alg === 'ML_DSA_SHAKE_256') {
    const dsa = { 1312: ml_dsa44, 1952: ml_dsa65, 2592: ml_dsa87 }[spki.length - 22]!;
    return dsa.verify(sig, message, spki.subarray(22));
  }
  if (alg === 'ED25519_PH_SHA_512') return ed25519ph.verify(sig, message, spki.subarray(spki.length - 32));
  const pub = file(pem(spki, 'PUBLIC KEY'));
  const sigFile = file(sig);
  if (alg === 'ED25519_SHA_512') {
    return openssl(['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', file(message), '-sigfile', sigFile]).ok;
  }
  const hash = HASH_OF[alg]!;
  // AWS's PSS parameters: salt as long as the digest (OpenSSL then insists on exactly that), MGF1 with the same hash.
  const pss = alg.startsWith('RSASSA_PSS') ? ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'] : [];
  if (type === 'DIGEST') {
    const overDigest = openssl(['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', file(signed), '-sigfile', sigFile, '-pkeyopt', `digest:${hash}`,
      ...pss.flatMap((o) => ['-pkeyopt', o])]).ok;
    // A DIGEST signature is an ordinary signature of the message, so OpenSSL's dgst accepts it too.
    return overDigest && openssl(['dgst', `-${hash}`, ...pss.flatMap((o) => ['-sigopt', o]), '-verify', pub, '-signature', sigFile, file(message)]).ok;
  }
  return openssl(['dgst', `-${hash}`, ...pss.flatMap((o) => ['-sigopt', o]), '-verify', pub, '-signature', sigFile, file(message)]).ok;
}

const publicKeys = new Map<string, Uint8Array>();
async function publicKeyOf(name: string): Promise<Uint8Array> {
  if (!publicKeys.has(name)) publicKeys.set(name, (await kms.send(new GetPublicKeyCommand({ KeyId: key(name).keyId }))).PublicKey!);
  return publicKeys.get(name)!;
}

// ---------------------------------------------------------------------------------------------------------

describe('Sign and Verify', () => {
  const cases: { spec: KeySpec; alg: SigningAlgorithmSpec; type: MessageType }[] = [];
  const RSA_ALGS: SigningAlgorithmSpec[] = [
    'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
    'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  ];
  for (const spec of RSA_SPECS) {
    for (const alg of RSA_ALGS) cases.push({ spec, alg, type: 'RAW' }, { spec, alg, type: 'DIGEST' });
  }
  for (const [spec, alg] of [['ECC_NIST_P256', 'ECDSA_SHA_256'], ['ECC_NIST_P384', 'ECDSA_SHA_384'], ['ECC_NIST_P521', 'ECDSA_SHA_512'], ['ECC_SECG_P256K1', 'ECDSA_SHA_256']] as const) {
    cases.push({ spec, alg, type: 'RAW' }, { spec, alg, type: 'DIGEST' });
  }
  cases.push({ spec: 'ECC_NIST_EDWARDS25519', alg: 'ED25519_SHA_512', type: 'RAW' });
  cases.push({ spec: 'ECC_NIST_EDWARDS25519', alg: 'ED25519_PH_SHA_512', type: 'DIGEST' });
  for (const spec of ['ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87'] as KeySpec[]) cases.push({ spec, alg: 'ML_DSA_SHAKE_256', type: 'RAW' });

  for (const { spec, alg, type } of cases) {
    test(`${spec} ${alg} ${type}: the signature verifies independently and in Trent; a modified message is rejected`, async () => {
      const k = key(`sign:${spec}`);
      const message = Buffer.from(`message for ${spec} ${alg} ${randomBytes(8).toString('hex')}`);
      const hash = alg === 'ED25519_PH_SHA_512' ? 'sha512' : HASH_OF[alg];
      const signed = type === 'DIGEST' ? createHash(hash!).update(message).digest() : message;
      const out = await kms.send(new SignCommand({ KeyId: k.keyId, Message: signed, MessageType: type, SigningAlgorithm: alg }));
      assert.equal(out.KeyId, k.arn);
      assert.equal(out.SigningAlgorithm, alg);
      assert.ok(independentlyValid(alg, type, await publicKeyOf(`sign:${spec}`), message, signed, out.Signature!), 'independent verification');
      const ok = await kms.send(new VerifyCommand({ KeyId: k.keyId, Message: signed, MessageType: type, SigningAlgorithm: alg, Signature: out.Signature }));
      assert.equal(ok.SignatureValid, true);
      assert.equal(ok.KeyId, k.arn);
      assert.equal(ok.SigningAlgorithm, alg);
      const changed = Buffer.from(signed);
      changed[0] = changed[0]! ^ 1;
      const bad = await awsError(() => kms.send(new VerifyCommand({ KeyId: k.keyId, Message: changed, MessageType: type, SigningAlgorithm: alg, Signature: out.Signature })));
      assertEmptyError(bad, 'KMSInvalidSignatureException');
    });
  }

  for (const spec of ['ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87'] as const) {
    test(`${spec} EXTERNAL_MU: a signature over μ computed here (FIPS 204) verifies with @noble as a signature of the message, and in Trent`, async () => {
      const k = key(`sign:${spec}`);
      const spki = await publicKeyOf(`sign:${spec}`);
      const publicKey = spki.subarray(22); // SPKI header of the ML-DSA public keys is 22 bytes
      const message = Buffer.from(`external mu ${randomBytes(8).toString('hex')}`);
      // FIPS 204 §5.2 / Algorithm 7: tr = H(pk, 64), μ = H(tr ‖ 0x00 ‖ |ctx| = 0 ‖ M, 64), H = SHAKE256 (node:crypto, not noble).
      const tr = createHash('shake256', { outputLength: 64 }).update(publicKey).digest();
      const mu = createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(message).digest();
      const out = await kms.send(new SignCommand({ KeyId: k.keyId, Message: mu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
      const dsa = { ML_DSA_44: ml_dsa44, ML_DSA_65: ml_dsa65, ML_DSA_87: ml_dsa87 }[spec];
      assert.ok(dsa.verify(out.Signature!, message, publicKey), 'noble verifies it as a pure ML-DSA signature of the message');
      const ok = await kms.send(new VerifyCommand({ KeyId: k.keyId, Message: mu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256', Signature: out.Signature }));
      assert.equal(ok.SignatureValid, true);
      const raw = await kms.send(new VerifyCommand({ KeyId: k.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ML_DSA_SHAKE_256', Signature: out.Signature }));
      assert.equal(raw.SignatureValid, true);
      const otherMu = Buffer.from(mu);
      otherMu[0] = otherMu[0]! ^ 1;
      assertEmptyError(await awsError(() => kms.send(new VerifyCommand({ KeyId: k.keyId, Message: otherMu, MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256', Signature: out.Signature }))),
        'KMSInvalidSignatureException');
    });
  }

  test("another key's signature is rejected with KMSInvalidSignatureException", async () => {
    const message = Buffer.from('same message');
    const sig = await kms.send(new SignCommand({ KeyId: key('sign:ECC_NIST_P256').keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    const e = await awsError(() => kms.send(new VerifyCommand({ KeyId: key('sign:ECC_SECG_P256K1').keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256', Signature: sig.Signature })));
    assertEmptyError(e, 'KMSInvalidSignatureException');
    const rsa = await kms.send(new SignCommand({ KeyId: key('sign:RSA_2048').keyId, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }));
    const e2 = await awsError(() => kms.send(new VerifyCommand({ KeyId: key('sign:RSA_3072').keyId, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', Signature: rsa.Signature })));
    assertEmptyError(e2, 'KMSInvalidSignatureException');
  });

  test('a failed Verify is KMSInvalidSignatureException with an empty message on the wire', async () => {
    const res = await rawCall(server.url, 'TrentService.Verify', JSON.stringify({
      KeyId: key('sign:ECC_NIST_P256').keyId, Message: Buffer.from('m').toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256',
      Signature: randomBytes(70).toString('base64'),
    }));
    assert.equal(res.status, 400);
    assert.equal(res.json.__type, 'KMSInvalidSignatureException');
    assert.equal(res.json.message ?? '', '');
  });

  test('a digest of the wrong length is ValidationException with the AWS text', async () => {
    const e = await awsError(() => kms.send(new SignCommand({ KeyId: key('sign:ECC_NIST_P384').keyId, Message: randomBytes(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_384' })));
    assert.deepEqual([e.name, e.message], ['ValidationException', 'Digest is invalid length for algorithm ECDSA_SHA_384.']);
  });

  test('a signing algorithm of another key spec is InvalidKeyUsageException', async () => {
    const e = await awsError(() => kms.send(new SignCommand({ KeyId: key('sign:ECC_NIST_P256').keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_384' })));
    assert.deepEqual([e.name, e.message], ['InvalidKeyUsageException', 'Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.']);
  });

  for (const spec of RSA_SPECS) {
    test(`${spec} RSASSA-PSS DIGEST: RAW and DIGEST signatures verify each other; a tampered digest or another ${spec} key's signature is KMSInvalidSignatureException`, async () => {
      const [mine, other] = [key(`sign:${spec}`), key(`sign2:${spec}`)];
      for (const alg of ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'] as const) {
        const message = randomBytes(100);
        const digest = createHash(HASH_OF[alg]!).update(message).digest();
        const signDigest = (KeyId: string) => kms.send(new SignCommand({ KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: alg }));
        const verifyDigest = (Message: Uint8Array, Signature: Uint8Array | undefined, KeyId = mine.keyId) =>
          kms.send(new VerifyCommand({ KeyId, Message, MessageType: 'DIGEST', SigningAlgorithm: alg, Signature }));
        const pre = await signDigest(mine.keyId);
        const raw = await kms.send(new SignCommand({ KeyId: mine.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: alg }));
        assert.equal((await verifyDigest(digest, raw.Signature)).SignatureValid, true, `${alg}: RAW signature, DIGEST verify`);
        const asRaw = await kms.send(new VerifyCommand({ KeyId: mine.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: alg, Signature: pre.Signature }));
        assert.equal(asRaw.SignatureValid, true, `${alg}: DIGEST signature, RAW verify`);
        const again = await signDigest(mine.keyId);
        assert.notDeepEqual(Buffer.from(again.Signature!), Buffer.from(pre.Signature!), `${alg}: the salt is random`);
        const tampered = Buffer.from(digest);
        tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0x80;
        assertEmptyError(await awsError(() => verifyDigest(tampered, pre.Signature)), 'KMSInvalidSignatureException');
        const theirs = await signDigest(other.keyId);
        assert.equal((await verifyDigest(digest, theirs.Signature, other.keyId)).SignatureValid, true);
        assertEmptyError(await awsError(() => verifyDigest(digest, theirs.Signature)), 'KMSInvalidSignatureException');
        // AWS: "Digest is invalid length for algorithm RSASSA_PSS_SHA_256." (recorded), for Sign and Verify alike.
        const long = Buffer.concat([digest, Buffer.from([0])]);
        for (const call of [() => kms.send(new SignCommand({ KeyId: mine.keyId, Message: long, MessageType: 'DIGEST', SigningAlgorithm: alg })), () => verifyDigest(long, pre.Signature)]) {
          const e = await awsError(call);
          assert.deepEqual([e.name, e.message], ['ValidationException', `Digest is invalid length for algorithm ${alg}.`]);
        }
      }
    });
  }

  test('Sign and Verify with DryRun answer DryRunOperationException after all checks', async () => {
    const k = key('sign:ECC_NIST_P256');
    const message = Buffer.from('dry');
    const sig = await kms.send(new SignCommand({ KeyId: k.keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
    const e1 = await awsError(() => kms.send(new SignCommand({ KeyId: k.keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })));
    assert.equal(e1.name, 'DryRunOperationException');
    const e2 = await awsError(() => kms.send(new VerifyCommand({ KeyId: k.keyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256', Signature: sig.Signature, DryRun: true })));
    assert.equal(e2.name, 'DryRunOperationException');
    const e3 = await awsError(() => kms.send(new VerifyCommand({ KeyId: k.keyId, Message: Buffer.from('other'), SigningAlgorithm: 'ECDSA_SHA_256', Signature: sig.Signature, DryRun: true })));
    assert.equal(e3.name, 'KMSInvalidSignatureException');
  });
});

describe('RSA encryption', () => {
  for (const alg of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const) {
    test(`${alg}: ciphertext from node:crypto publicEncrypt with GetPublicKey decrypts in Trent; Trent's Encrypt round-trips`, async () => {
      const k = key('enc:RSA_2048');
      const spki = await publicKeyOf('enc:RSA_2048');
      const plaintext = randomBytes(100);
      const ciphertext = publicEncrypt(
        { key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' },
        plaintext,
      );
      const dec = await kms.send(new DecryptCommand({ KeyId: k.keyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: alg }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
      assert.equal(dec.KeyId, k.arn);
      assert.equal(dec.EncryptionAlgorithm, alg);
      const enc = await kms.send(new EncryptCommand({ KeyId: k.keyId, Plaintext: plaintext, EncryptionAlgorithm: alg }));
      assert.equal(enc.EncryptionAlgorithm, alg);
      assert.equal(enc.CiphertextBlob!.length, 256);
      const back = await kms.send(new DecryptCommand({ KeyId: k.arn, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: alg }));
      assert.deepEqual(Buffer.from(back.Plaintext!), plaintext);
    });
  }

  test('OpenSSL CLI RSAES-OAEP ciphertext (SHA-1 and SHA-256, MGF1 with the same hash) made with GetPublicKey decrypts in Trent, RSA_2048 and RSA_3072', async () => {
    for (const name of ['enc:RSA_2048', 'enc:RSA_3072']) {
      const pub = file(pem(await publicKeyOf(name), 'PUBLIC KEY'));
      for (const [alg, md] of [['RSAES_OAEP_SHA_1', 'sha1'], ['RSAES_OAEP_SHA_256', 'sha256']] as const) {
        const plaintext = randomBytes(64);
        const ct = join(dir, `ct${fileNo++}`);
        const enc = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pub, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`,
          '-pkeyopt', `rsa_mgf1_md:${md}`, '-in', file(plaintext), '-out', ct]);
        assert.ok(enc.ok, enc.out);
        const dec = await kms.send(new DecryptCommand({ KeyId: key(name).keyId, CiphertextBlob: readFileSync(ct), EncryptionAlgorithm: alg }));
        assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext, `${name} ${alg}`);
        // The other OAEP variant cannot open it, and says nothing about why.
        const other = alg === 'RSAES_OAEP_SHA_1' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1';
        const e = await awsError(() => kms.send(new DecryptCommand({ KeyId: key(name).keyId, CiphertextBlob: readFileSync(ct), EncryptionAlgorithm: other })));
        assert.equal(e.name, 'InvalidCiphertextException');
      }
    }
  });

  test('per-spec plaintext limits use the AWS text', async () => {
    for (const [name, spec, alg, max] of [
      ['enc:RSA_2048', 'RSA_2048', 'RSAES_OAEP_SHA_1', 214], ['enc:RSA_2048', 'RSA_2048', 'RSAES_OAEP_SHA_256', 190],
      ['enc:RSA_3072', 'RSA_3072', 'RSAES_OAEP_SHA_1', 342], ['enc:RSA_3072', 'RSA_3072', 'RSAES_OAEP_SHA_256', 318],
    ] as const) {
      await kms.send(new EncryptCommand({ KeyId: key(name).keyId, Plaintext: randomBytes(max), EncryptionAlgorithm: alg }));
      const e = await awsError(() => kms.send(new EncryptCommand({ KeyId: key(name).keyId, Plaintext: randomBytes(max + 1), EncryptionAlgorithm: alg })));
      assert.deepEqual([e.name, e.message], ['ValidationException', `Algorithm ${alg} and key spec ${spec} cannot encrypt data larger than ${max} bytes.`]);
    }
  });

  test('an RSA key needs an RSAES algorithm, refuses an encryption context, and a wrong algorithm or tampered ciphertext fails', async () => {
    const k = key('enc:RSA_2048');
    const e1 = await awsError(() => kms.send(new EncryptCommand({ KeyId: k.keyId, Plaintext: Buffer.from('x') })));
    assert.deepEqual([e1.name, e1.message], ['InvalidKeyUsageException', 'Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.']);
    const e2 = await awsError(() => kms.send(new EncryptCommand({ KeyId: k.keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })));
    assert.equal(e2.name, 'ValidationException');
    const enc = await kms.send(new EncryptCommand({ KeyId: k.keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const e3 = await awsError(() => kms.send(new DecryptCommand({ KeyId: k.keyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })));
    assertEmptyError(e3, 'InvalidCiphertextException');
    const e4 = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.equal(e4.name, 'ValidationException');
    const e5 = await awsError(() => kms.send(new EncryptCommand({ KeyId: key('sym').keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.deepEqual([e5.name, e5.message], ['InvalidKeyUsageException', 'Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.']);
  });

  test('ReEncrypt moves ciphertext from a symmetric key to an RSA key and back', async () => {
    const sym = key('sym');
    const rsa = key('enc:RSA_2048');
    const plaintext = Buffer.from('re-encrypt me');
    const first = await kms.send(new EncryptCommand({ KeyId: sym.keyId, Plaintext: plaintext }));
    const toRsa = await kms.send(new ReEncryptCommand({ CiphertextBlob: first.CiphertextBlob, DestinationKeyId: rsa.keyId, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.equal(toRsa.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(toRsa.DestinationEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
    assert.equal(toRsa.KeyId, rsa.arn);
    const back = await kms.send(new ReEncryptCommand({
      CiphertextBlob: toRsa.CiphertextBlob, SourceKeyId: rsa.keyId, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DestinationKeyId: sym.keyId,
    }));
    assert.equal(back.SourceKeyId, rsa.arn);
    assert.equal(back.SourceEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }));
    assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
  });
});

describe('DeriveSharedSecret', () => {
  for (const [spec, curve] of [['ECC_NIST_P256', 'prime256v1'], ['ECC_NIST_P384', 'secp384r1'], ['ECC_NIST_P521', 'secp521r1']] as const) {
    test(`${spec}: the ECDH secret equals the one computed locally with the peer's private key`, async () => {
      const k = key(`ka:${spec}`);
      const peer = generateKeyPairSync('ec', { namedCurve: curve });
      const out = await kms.send(new DeriveSharedSecretCommand({
        KeyId: k.keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ type: 'spki', format: 'der' }),
      }));
      const trentPublic = createPublicKey({ key: Buffer.from(await publicKeyOf(`ka:${spec}`)), format: 'der', type: 'spki' });
      assert.deepEqual(Buffer.from(out.SharedSecret!), diffieHellman({ privateKey: peer.privateKey, publicKey: trentPublic }));
      assert.equal(out.KeyId, k.arn);
      assert.equal(out.KeyAgreementAlgorithm, 'ECDH');
      assert.equal(out.KeyOrigin, 'AWS_KMS');
    });
  }

  test('a bad peer key is ValidationException with an empty message; a SIGN_VERIFY key is InvalidKeyUsageException; DryRun', async () => {
    const k = key('ka:ECC_NIST_P256');
    const otherCurve = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' });
    for (const bad of [randomBytes(91), otherCurve]) {
      const e = await awsError(() => kms.send(new DeriveSharedSecretCommand({ KeyId: k.keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: bad })));
      assertEmptyError(e, 'ValidationException');
    }
    const good = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    const s = key('sign:ECC_NIST_P256');
    const e2 = await awsError(() => kms.send(new DeriveSharedSecretCommand({ KeyId: s.keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: good })));
    assert.deepEqual([e2.name, e2.message], ['InvalidKeyUsageException', `${s.arn} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.`]);
    const e3 = await awsError(() => kms.send(new DeriveSharedSecretCommand({ KeyId: k.keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: good, DryRun: true })));
    assert.equal(e3.name, 'DryRunOperationException');
  });
});

describe('GenerateMac and VerifyMac', () => {
  for (const [spec, alg, len] of [['HMAC_224', 'HMAC_SHA_224', 28], ['HMAC_256', 'HMAC_SHA_256', 32], ['HMAC_384', 'HMAC_SHA_384', 48], ['HMAC_512', 'HMAC_SHA_512', 64]] as const) {
    test(`${spec}: a MAC verifies; a wrong MAC or a changed message is KMSInvalidMacException`, async () => {
      const k = key(`mac:${spec}`);
      const message = Buffer.from('mac me');
      const out = await kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: message, MacAlgorithm: alg }));
      assert.equal(out.Mac!.length, len);
      assert.equal(out.KeyId, k.arn);
      assert.equal(out.MacAlgorithm, alg);
      const ok = await kms.send(new VerifyMacCommand({ KeyId: k.keyId, Message: message, MacAlgorithm: alg, Mac: out.Mac }));
      assert.deepEqual([ok.MacValid, ok.KeyId, ok.MacAlgorithm], [true, k.arn, alg]);
      const wrong = Buffer.from(out.Mac!);
      wrong[0] = wrong[0]! ^ 1;
      for (const [m, mac] of [[message, wrong], [Buffer.from('mac me!'), out.Mac!]] as const) {
        const e = await awsError(() => kms.send(new VerifyMacCommand({ KeyId: k.keyId, Message: m, MacAlgorithm: alg, Mac: mac })));
        assertEmptyError(e, 'KMSInvalidMacException');
      }
    });
  }

  test('a MAC algorithm of another spec is InvalidKeyUsageException with the AWS text; DryRun', async () => {
    const k = key('mac:HMAC_256');
    const e = await awsError(() => kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512' as MacAlgorithmSpec })));
    assert.deepEqual([e.name, e.message], ['InvalidKeyUsageException', 'Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.']);
    const e2 = await awsError(() => kms.send(new VerifyMacCommand({ KeyId: k.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512', Mac: randomBytes(64) })));
    assert.deepEqual([e2.name, e2.message], ['InvalidKeyUsageException', 'Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.']);
    const e3 = await awsError(() => kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', DryRun: true })));
    assert.equal(e3.name, 'DryRunOperationException');
    const mac = await kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }));
    const e4 = await awsError(() => kms.send(new VerifyMacCommand({ KeyId: k.keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', Mac: mac.Mac, DryRun: true })));
    assert.equal(e4.name, 'DryRunOperationException');
  });
});

describe('GenerateDataKeyPair', () => {
  const SPECS: DataKeyPairSpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519'];
  for (const spec of SPECS) {
    test(`${spec}: Decrypt of PrivateKeyCiphertextBlob gives PrivateKeyPlaintext; OpenSSL signatures with it, every algorithm and message type, verify in Trent with PublicKey`, async () => {
      const sym = key('sym');
      const context = { purpose: `pair-${spec}` };
      const out = await kms.send(new GenerateDataKeyPairCommand({ KeyId: sym.keyId, KeyPairSpec: spec, EncryptionContext: context }));
      assert.equal(out.KeyId, sym.arn);
      assert.equal(out.KeyPairSpec, spec);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: context }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(out.PrivateKeyPlaintext!));
      const noContext = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob })));
      assert.equal(noContext.name, 'InvalidCiphertextException');
      // KMS Verify takes KMS keys only and a data key pair is not one, so the signatures OpenSSL makes with the
      // pair's private key go to Trent's own verifier with the PublicKey the server returned.
      const priv = file(pem(out.PrivateKeyPlaintext!, 'PRIVATE KEY'));
      const pub = file(pem(out.PublicKey!, 'PUBLIC KEY'));
      const message = Buffer.from(`signed by a ${spec} data key pair`);
      const messageFile = file(message);
      const publicKeySpki = Buffer.from(out.PublicKey!);
      let checked = 0;
      for (const alg of signingAlgorithmsFor(spec as AsymmetricKeySpec)) {
        for (const type of ['RAW', 'DIGEST'] as const) {
          const label = `${spec} ${alg} ${type}`;
          const sig = join(dir, `sig${fileNo++}`);
          let signed: Buffer;
          if (alg === 'ED25519_SHA_512') {
            if (type === 'DIGEST') continue; // AWS: Ed25519 takes RAW only
            assert.ok(openssl(['pkeyutl', '-sign', '-inkey', priv, '-rawin', '-in', messageFile, '-out', sig]).ok, label);
            assert.ok(openssl(['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', messageFile, '-sigfile', sig]).ok, label);
            signed = message;
          } else if (alg === 'ED25519_PH_SHA_512') {
            if (type === 'RAW') continue; // AWS: Ed25519ph takes DIGEST only
            // OpenSSL 3.0 has no Ed25519ph: @noble signs instead (its sign() hashes the message with SHA-512 itself).
            writeFileSync(sig, ed25519ph.sign(message, Buffer.from(out.PrivateKeyPlaintext!).subarray(-32)));
            signed = createHash('sha512').update(message).digest();
          } else {
            const hash = HASH_OF[alg]!;
            const pss = alg.startsWith('RSASSA_PSS') ? ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'] : [];
            if (type === 'RAW') {
              assert.ok(openssl(['dgst', `-${hash}`, ...pss.flatMap((o) => ['-sigopt', o]), '-sign', priv, '-out', sig, messageFile]).ok, label);
              signed = message;
            } else {
              signed = createHash(hash).update(message).digest();
              assert.ok(openssl(['pkeyutl', '-sign', '-inkey', priv, '-pkeyopt', `digest:${hash}`, ...pss.flatMap((o) => ['-pkeyopt', o]),
                '-in', file(signed), '-out', sig]).ok, label);
            }
          }
          const signature = readFileSync(sig);
          assert.ok(trentVerify(spec as AsymmetricKeySpec, publicKeySpki, alg, type, signed, signature), `${label}: Trent verifies`);
          const changed = Buffer.from(signed);
          changed[0] = changed[0]! ^ 1;
          assert.ok(!trentVerify(spec as AsymmetricKeySpec, publicKeySpki, alg, type, changed, signature), `${label}: changed message`);
          checked++;
        }
      }
      assert.equal(checked, spec.startsWith('RSA') ? 12 : 2);
    });
  }

  test('WithoutPlaintext returns no private key; the decrypted one matches PublicKey; DryRun; SM2 and an asymmetric wrapping key are refused', async () => {
    const sym = key('sym');
    const out = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: sym.keyId, KeyPairSpec: 'ECC_NIST_P256' }));
    assert.equal((out as unknown as Record<string, unknown>).PrivateKeyPlaintext, undefined);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: out.PrivateKeyCiphertextBlob }));
    const derived = openssl(['pkey', '-in', file(pem(dec.Plaintext!, 'PRIVATE KEY')), '-pubout']);
    assert.equal(derived.out, pem(out.PublicKey!, 'PUBLIC KEY'));
    const e1 = await awsError(() => kms.send(new GenerateDataKeyPairCommand({ KeyId: sym.keyId, KeyPairSpec: 'RSA_2048', DryRun: true })));
    assert.equal(e1.name, 'DryRunOperationException');
    const e2 = await awsError(() => kms.send(new GenerateDataKeyPairCommand({ KeyId: sym.keyId, KeyPairSpec: 'SM2' })));
    assert.equal(e2.name, 'UnsupportedOperationException');
    const rsa = key('enc:RSA_2048');
    const e3 = await awsError(() => kms.send(new GenerateDataKeyPairCommand({ KeyId: rsa.keyId, KeyPairSpec: 'ECC_NIST_P256' })));
    assert.equal(e3.name, 'InvalidKeyUsageException');
  });
});

describe('CreateKey, DescribeKey and GetPublicKey for the new specs', () => {
  test('DescribeKey and GetPublicKey list the algorithms of every key spec and usage exactly as AWS', async () => {
    // AWS (aws-api.md §1.2), written out here rather than taken from Trent's own tables.
    const RSA_SIGNING = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
    const expected: [string, KeySpec, KeyUsageType, Record<string, string[]>][] = [
      ...RSA_SPECS.flatMap((spec): [string, KeySpec, KeyUsageType, Record<string, string[]>][] => [
        [`sign:${spec}`, spec, 'SIGN_VERIFY', { SigningAlgorithms: RSA_SIGNING }],
        [`sign2:${spec}`, spec, 'SIGN_VERIFY', { SigningAlgorithms: RSA_SIGNING }],
      ]),
      ['enc:RSA_2048', 'RSA_2048', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }],
      ['enc:RSA_3072', 'RSA_3072', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }],
      ['sign:ECC_NIST_P256', 'ECC_NIST_P256', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }],
      ['sign:ECC_NIST_P384', 'ECC_NIST_P384', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_384'] }],
      ['sign:ECC_NIST_P521', 'ECC_NIST_P521', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_512'] }],
      ['sign:ECC_SECG_P256K1', 'ECC_SECG_P256K1', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }],
      ['sign:ECC_NIST_EDWARDS25519', 'ECC_NIST_EDWARDS25519', 'SIGN_VERIFY', { SigningAlgorithms: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] }],
      ['sign:ML_DSA_44', 'ML_DSA_44', 'SIGN_VERIFY', { SigningAlgorithms: ['ML_DSA_SHAKE_256'] }],
      ['sign:ML_DSA_65', 'ML_DSA_65', 'SIGN_VERIFY', { SigningAlgorithms: ['ML_DSA_SHAKE_256'] }],
      ['sign:ML_DSA_87', 'ML_DSA_87', 'SIGN_VERIFY', { SigningAlgorithms: ['ML_DSA_SHAKE_256'] }],
      ['ka:ECC_NIST_P256', 'ECC_NIST_P256', 'KEY_AGREEMENT', { KeyAgreementAlgorithms: ['ECDH'] }],
      ['ka:ECC_NIST_P384', 'ECC_NIST_P384', 'KEY_AGREEMENT', { KeyAgreementAlgorithms: ['ECDH'] }],
      ['ka:ECC_NIST_P521', 'ECC_NIST_P521', 'KEY_AGREEMENT', { KeyAgreementAlgorithms: ['ECDH'] }],
      ['mac:HMAC_224', 'HMAC_224', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_224'] }],
      ['mac:HMAC_256', 'HMAC_256', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_256'] }],
      ['mac:HMAC_384', 'HMAC_384', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_384'] }],
      ['mac:HMAC_512', 'HMAC_512', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_512'] }],
      ['sym', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }],
    ];
    assert.equal(expected.length, keys.size, 'every key the file created is listed');
    const LISTS = ['EncryptionAlgorithms', 'SigningAlgorithms', 'MacAlgorithms', 'KeyAgreementAlgorithms'] as const;
    for (const [name, spec, usage, lists] of expected) {
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId: key(name).keyId }))).KeyMetadata! as unknown as Record<string, unknown>;
      assert.deepEqual([meta.KeySpec, meta.KeyUsage, meta.KeyState], [spec, usage, 'Enabled'], name);
      for (const l of LISTS) assert.deepEqual(meta[l], lists[l], `DescribeKey ${name} ${l}`);
      if (name === 'sym') continue; // AWS: symmetric keys carry CurrentKeyMaterialId and have no public key
      assert.equal(meta.CurrentKeyMaterialId, undefined, name);
      if (name.startsWith('mac:')) continue; // no public key
      const pub = (await kms.send(new GetPublicKeyCommand({ KeyId: key(name).keyId }))) as unknown as Record<string, unknown>;
      assert.deepEqual([pub.KeySpec, pub.KeyUsage], [spec, usage], name);
      for (const l of LISTS) assert.deepEqual(pub[l], lists[l], `GetPublicKey ${name} ${l}`);
    }
  });

  test('CreateKey refuses a missing KeyUsage, an incompatible usage and SM2 with the AWS texts', async () => {
    const e1 = await awsError(() => kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256' })));
    assert.deepEqual([e1.name, e1.message], ['ValidationException', 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.']);
    const e2 = await awsError(() => kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'KEY_AGREEMENT' })));
    assert.deepEqual([e2.name, e2.message], ['ValidationException', 'KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048']);
    const e3 = await awsError(() => kms.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'KEY_AGREEMENT' })));
    assert.deepEqual([e3.name, e3.message], ['ValidationException', 'KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1']);
    const e4 = await awsError(() => kms.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' })));
    assert.equal(e4.name, 'UnsupportedOperationException');
    assert.match(e4.message, /SM2/);
  });

  test('SM2 is refused clearly wherever a request can name it: KeySpec, KeyPairSpec, SM2DSA, SM2PKE', async () => {
    for (const KeyUsage of ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'KEY_AGREEMENT'] as const) {
      const e = await awsError(() => kms.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage })));
      assert.deepEqual([e.name, e.message], ['UnsupportedOperationException',
        'KeySpec SM2 is not supported: SM2 keys exist only in AWS China Regions and Trent does not implement the SM2 algorithms.'], KeyUsage);
    }
    const e2 = await awsError(() => kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key('sym').keyId, KeyPairSpec: 'SM2' })));
    assert.deepEqual([e2.name, e2.message], ['UnsupportedOperationException',
      'KeyPairSpec SM2 is not supported: SM2 keys exist only in AWS China Regions and Trent does not implement the SM2 algorithms.']);
    // The SM2 algorithms on keys of other specs: the AWS incompatible-algorithm error.
    const rsa = key('sign:RSA_2048');
    const e3 = await awsError(() => kms.send(new SignCommand({ KeyId: rsa.keyId, Message: Buffer.from('m'), SigningAlgorithm: 'SM2DSA' })));
    assert.deepEqual([e3.name, e3.message], ['InvalidKeyUsageException', 'Algorithm SM2DSA is incompatible with key spec RSA_2048.']);
    const e4 = await awsError(() => kms.send(new EncryptCommand({ KeyId: key('enc:RSA_2048').keyId, Plaintext: Buffer.from('m'), EncryptionAlgorithm: 'SM2PKE' })));
    assert.deepEqual([e4.name, e4.message], ['InvalidKeyUsageException', 'Algorithm SM2PKE is incompatible with key spec RSA_2048.']);
  });

  test('GetPublicKey returns the SPKI, spec, usage and the usage\'s algorithms; symmetric and HMAC keys are refused', async () => {
    const ka = key('ka:ECC_NIST_P256');
    const out = await kms.send(new GetPublicKeyCommand({ KeyId: ka.arn }));
    assert.equal(out.KeyId, ka.arn);
    assert.equal(out.KeySpec, 'ECC_NIST_P256');
    assert.equal(out.CustomerMasterKeySpec, 'ECC_NIST_P256');
    assert.equal(out.KeyUsage, 'KEY_AGREEMENT');
    assert.deepEqual(out.KeyAgreementAlgorithms, ['ECDH']);
    assert.equal(out.SigningAlgorithms, undefined);
    assert.equal(createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const enc = await kms.send(new GetPublicKeyCommand({ KeyId: key('enc:RSA_2048').keyId }));
    assert.deepEqual(enc.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    const e1 = await awsError(() => kms.send(new GetPublicKeyCommand({ KeyId: key('sym').keyId })));
    assert.equal(e1.name, 'UnsupportedOperationException');
    const e2 = await awsError(() => kms.send(new GetPublicKeyCommand({ KeyId: key('mac:HMAC_256').keyId })));
    assert.deepEqual([e2.name, e2.message], ['InvalidKeyUsageException', `${key('mac:HMAC_256').arn} key usage is GENERATE_VERIFY_MAC which is not valid for GetPublicKey.`]);
  });

  test('every operation refuses a key of another usage with InvalidKeyUsageException "<arn> key usage is <usage> which is not valid for <operation>."', async () => {
    const m = Buffer.from('m');
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    const ops: Record<string, (KeyId: string) => Promise<unknown>> = {
      Sign: (KeyId) => kms.send(new SignCommand({ KeyId, Message: m, SigningAlgorithm: 'ECDSA_SHA_256' })),
      Verify: (KeyId) => kms.send(new VerifyCommand({ KeyId, Message: m, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', Signature: randomBytes(256) })),
      Encrypt: (KeyId) => kms.send(new EncryptCommand({ KeyId, Plaintext: m })),
      Decrypt: (KeyId) => kms.send(new DecryptCommand({ KeyId, CiphertextBlob: randomBytes(256), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      GenerateMac: (KeyId) => kms.send(new GenerateMacCommand({ KeyId, Message: m, MacAlgorithm: 'HMAC_SHA_256' })),
      VerifyMac: (KeyId) => kms.send(new VerifyMacCommand({ KeyId, Message: m, MacAlgorithm: 'HMAC_SHA_256', Mac: randomBytes(32) })),
      DeriveSharedSecret: (KeyId) => kms.send(new DeriveSharedSecretCommand({ KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })),
    };
    // [key, its usage, operation]; the recorded AWS cases are marked.
    const cases: [string, string, keyof typeof ops][] = [
      ['mac:HMAC_256', 'GENERATE_VERIFY_MAC', 'Sign'], // recorded
      ['enc:RSA_2048', 'ENCRYPT_DECRYPT', 'Verify'], // recorded
      ['enc:RSA_2048', 'ENCRYPT_DECRYPT', 'DeriveSharedSecret'], // recorded
      ['sym', 'ENCRYPT_DECRYPT', 'Sign'],
      ['ka:ECC_NIST_P256', 'KEY_AGREEMENT', 'Sign'],
      ['ka:ECC_NIST_P256', 'KEY_AGREEMENT', 'Encrypt'],
      ['mac:HMAC_256', 'GENERATE_VERIFY_MAC', 'Encrypt'],
      ['sign:RSA_2048', 'SIGN_VERIFY', 'Decrypt'],
      ['sign:ECC_NIST_P256', 'SIGN_VERIFY', 'GenerateMac'],
      ['sign:ECC_NIST_P256', 'SIGN_VERIFY', 'VerifyMac'],
      ['mac:HMAC_256', 'GENERATE_VERIFY_MAC', 'DeriveSharedSecret'],
    ];
    for (const [name, usage, op] of cases) {
      const e = await awsError(() => ops[op]!(key(name).keyId));
      assert.deepEqual([e.name, e.message], ['InvalidKeyUsageException', `${key(name).arn} key usage is ${usage} which is not valid for ${op}.`], `${name} ${op}`);
    }
  });

  test('a key used for an operation of another usage is InvalidKeyUsageException with the AWS text; asymmetric keys cannot rotate', async () => {
    const s = key('sign:RSA_2048');
    const e1 = await awsError(() => kms.send(new EncryptCommand({ KeyId: s.keyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    assert.deepEqual([e1.name, e1.message], ['InvalidKeyUsageException', `${s.arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`]);
    const enc = key('enc:RSA_2048');
    const e2 = await awsError(() => kms.send(new SignCommand({ KeyId: enc.keyId, Message: Buffer.from('x'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })));
    assert.deepEqual([e2.name, e2.message], ['InvalidKeyUsageException', `${enc.arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`]);
    const sym = key('sym');
    const e3 = await awsError(() => kms.send(new GenerateMacCommand({ KeyId: sym.keyId, Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' })));
    assert.deepEqual([e3.name, e3.message], ['InvalidKeyUsageException', `${sym.arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.`]);
    const e4 = await awsError(() => kms.send(new EnableKeyRotationCommand({ KeyId: s.keyId })));
    assert.equal(e4.name, 'UnsupportedOperationException');
  });
});
