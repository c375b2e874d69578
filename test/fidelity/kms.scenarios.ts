/**
 * The requests of LocalStack's tests/aws/services/kms/test_kms.py (github.com/localstack/localstack),
 * one scenario per recorded test, replayed against Trent. Each scenario follows its Python test step
 * by step: `s.match` where the test calls `snapshot.match`, `s.check` where it asserts. The
 * `kms_create_key` fixture gives every key a description unless the test does (`createKey` below).
 *
 * Blob members are sent as boto3 sends them: a Python `str` or `bytes` argument is base64-encoded on
 * the wire, so `Plaintext=base64.b64encode(message)` sends the base64 text as the plaintext bytes.
 */
import { createHash, createPublicKey, constants, createCipheriv, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import type { Json } from './normalise.ts';
import { REGION, SECONDARY_REGION, type Scenario, type Session } from './harness.ts';

const blob = (v: string | Buffer) => Buffer.from(v).toString('base64');
const bytes = (v: Json | undefined) => Buffer.from(String(v), 'base64');
const MESSAGE = 'test message 123 !%$@ 1234567890';
let uid = 0;
/** LocalStack's short_uid(): 8 hex characters; a counter, so that a diff reads the same on every run (each run has a fresh server). */
const shortUid = () => (0xf1de0000 + uid++).toString(16);

type Meta = Record<string, Json>;

/** LocalStack's `kms_create_key` fixture: CreateKey with a default Description, returns KeyMetadata. */
async function createKey(s: Session, input: Record<string, unknown> = {}, region?: string): Promise<Meta> {
  const res = await s.kms('CreateKey', { Description: `test description - ${shortUid()}`, ...input }, region ? { region } : {});
  return s.ok(res, 'CreateKey').KeyMetadata as Meta;
}

async function allKeyIds(s: Session): Promise<Set<string>> {
  const ids = new Set<string>();
  let marker: Json | undefined;
  do {
    const page = s.ok(await s.kms('ListKeys', marker ? { Marker: marker } : {}), 'ListKeys');
    for (const k of page.Keys as Meta[]) ids.add(String(k.KeyId));
    marker = page.NextMarker;
  } while (marker !== undefined);
  return ids;
}

async function findAlias(s: Session, name: string): Promise<Meta | undefined> {
  let marker: Json | undefined;
  do {
    const page = s.ok(await s.kms('ListAliases', marker ? { Marker: marker } : {}), 'ListAliases');
    for (const a of page.Aliases as Meta[]) if (a.AliasName === name) return a;
    marker = page.NextMarker;
  } while (marker !== undefined);
  return undefined;
}

const tags = (o: Record<string, string>) => Object.entries(o).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));

/** RSAES-OAEP with the named hash under a DER SubjectPublicKeyInfo (the wrapping key of GetParametersForImport). */
function oaepEncrypt(spkiB64: Json | undefined, data: Buffer, hash: 'sha1' | 'sha256' = 'sha256'): Buffer {
  const key = createPublicKey({ key: bytes(spkiB64), format: 'der', type: 'spki' });
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, data);
}

function pkcs8(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' });
}

function spki(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

const hashOf = (algorithm: string) => (/SHA_512/.test(algorithm) ? 'sha512' : /SHA_384/.test(algorithm) ? 'sha384' : /SHA_224/.test(algorithm) ? 'sha224' : 'sha256');

export const KMS_SCENARIOS: Record<string, Scenario> = {};

// -- GenerateRandom ---------------------------------------------------------------------------------
for (const n of [12, 44, 91, 1, 1024]) {
  KMS_SCENARIOS[`test_generate_random[${n}]`] = async (s) => {
    const out = s.ok(await s.kms('GenerateRandom', { NumberOfBytes: n }));
    s.check(bytes(out.Plaintext).length === n, `GenerateRandom returns ${n} bytes`);
    s.match('result_length', bytes(out.Plaintext).length);
  };
}
for (const [id, value] of [['None', undefined], ['0', 0], ['1025', 1025]] as const) {
  KMS_SCENARIOS[`test_generate_random_invalid_number_of_bytes[${id}]`] = async (s) => {
    s.match('generate-random-exc', s.error(await s.kms('GenerateRandom', value === undefined ? {} : { NumberOfBytes: value })));
  };
}

// -- Encrypt/Decrypt ----------------------------------------------------------------------------------
for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096']) {
  for (const algo of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']) {
    KMS_SCENARIOS[`test_encrypt_validate_plaintext_size_per_key_type[${spec}-${algo}]`] = async (s) => {
      const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: spec });
      const message = 'more than 500 bytes and less than 4096 bytes'.repeat(20);
      s.match('generate-random-exc', s.error(await s.kms('Encrypt', { KeyId: key.KeyId, Plaintext: blob(blob(message)), EncryptionAlgorithm: algo })));
    };
  }
}

KMS_SCENARIOS.test_plaintext_size_for_encrypt = async (s) => {
  const key = await createKey(s);
  s.match('invalid-plaintext-size-encrypt', s.error(await s.kms('Encrypt', { KeyId: key.KeyId, Plaintext: blob(blob(MESSAGE.repeat(100))) })));
};

KMS_SCENARIOS.test_encrypt_decrypt_encryption_context = async (s) => {
  const key = await createKey(s);
  const ctx = { 'context-key': 'context-value' };
  const enc = await s.kms('Encrypt', { KeyId: key.KeyId, Plaintext: blob(blob(MESSAGE)), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', EncryptionContext: ctx });
  s.match('encrypt_response', s.whole(enc));
  const ciphertext = bytes(s.ok(enc).CiphertextBlob);
  s.match('decrypt_response_with_encryption_context', s.whole(await s.kms('Decrypt', {
    KeyId: key.KeyId, CiphertextBlob: blob(ciphertext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', EncryptionContext: ctx,
  })));
  s.match('decrypt_response_without_encryption_context', s.error(await s.kms('Decrypt', {
    KeyId: key.KeyId, CiphertextBlob: blob(ciphertext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  })));
  // LocalStack cuts its own header (HEADER_LEN = 2 + 36 + 12 + 16 ... = 82 bytes in its models.py) off the front.
  s.match('decrypt_response_with_invalid_ciphertext', s.error(await s.kms('Decrypt', {
    KeyId: key.KeyId, CiphertextBlob: blob(ciphertext.subarray(Math.min(82, ciphertext.length - 1))), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', EncryptionContext: ctx,
  })));
};

for (const [spec, algo] of [['SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT'], ['RSA_2048', 'RSAES_OAEP_SHA_256']] as const) {
  KMS_SCENARIOS[`test_re_encrypt[${spec}-${algo}]`] = async (s) => {
    const source = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: spec });
    const destination = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: spec });
    const ciphertext = s.ok(await s.kms('Encrypt', { KeyId: source.KeyId, Plaintext: blob(blob(MESSAGE)), EncryptionAlgorithm: algo })).CiphertextBlob;
    const res = await s.kms('ReEncrypt', {
      SourceKeyId: source.KeyId, DestinationKeyId: destination.KeyId, CiphertextBlob: ciphertext,
      SourceEncryptionAlgorithm: algo, DestinationEncryptionAlgorithm: algo,
    });
    s.match('test_re_encrypt', s.whole(res));
    const a = s.ok(await s.kms('Decrypt', { KeyId: source.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: algo })).Plaintext;
    const b = s.ok(await s.kms('Decrypt', { KeyId: destination.KeyId, CiphertextBlob: s.ok(res).CiphertextBlob, EncryptionAlgorithm: algo })).Plaintext;
    s.check(bytes(bytes(a).toString()).toString() === MESSAGE && bytes(bytes(b).toString()).toString() === MESSAGE, 'both ciphertexts decrypt to the message');
  };
}

KMS_SCENARIOS.test_re_encrypt_incorrect_source_key = async (s) => {
  const source = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' });
  const ciphertext = s.ok(await s.kms('Encrypt', { KeyId: source.KeyId, Plaintext: blob(blob(MESSAGE)), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })).CiphertextBlob;
  const hmac = await createKey(s, { Description: 'test hmac key', KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' });
  s.match('incorrect-source-key', s.error(await s.kms('ReEncrypt', {
    SourceKeyId: hmac.KeyId, DestinationKeyId: hmac.KeyId, CiphertextBlob: ciphertext,
    SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  })));
};

KMS_SCENARIOS.test_error_messaging_for_invalid_keys = async (s) => {
  const hmac = await createKey(s, { Description: 'test key hmac', KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' });
  const encrypt = await createKey(s, { Description: 'test key encrypt decrypt' });
  const sign = await createKey(s, { Description: 'test key sign verify', KeyUsage: 'SIGN_VERIFY', KeySpec: 'RSA_2048' });
  s.match('generate-mac-invalid-key-id', s.error(await s.kms('GenerateMac', { KeyId: encrypt.KeyId, Message: blob('some important message'), MacAlgorithm: 'HMAC_SHA_224' })));
  s.match('sign-invalid-key-id', s.error(await s.kms('Sign', { KeyId: hmac.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', MessageType: 'RAW', Message: blob('test message 123!@#') })));
  s.match('verify-invalid-key-id', s.error(await s.kms('Verify', {
    MessageType: 'RAW', Signature: blob('random text'), Message: blob('test message'), KeyId: encrypt.KeyId, SigningAlgorithm: 'ECDSA_SHA_256',
  })));
  s.match('encrypt-invalid-key-id', s.error(await s.kms('Encrypt', { Plaintext: blob('test message 123!@#'), KeyId: sign.KeyId })));
  const ciphertext = s.ok(await s.kms('Encrypt', { Plaintext: blob('test message 123!@#'), KeyId: encrypt.KeyId })).CiphertextBlob;
  s.match('decrypt-invalid-key-id', s.error(await s.kms('Decrypt', { CiphertextBlob: ciphertext, KeyId: hmac.KeyId })));
};

// -- Keys: create, describe --------------------------------------------------------------------------
KMS_SCENARIOS.test_create_key = async (s) => {
  const before = await allKeyIds(s);
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT' });
  s.check(!before.has(String(key.KeyId)), 'the new key was not listed before');
  s.check((await allKeyIds(s)).has(String(key.KeyId)), 'the new key is listed');
  const meta = s.ok(await s.kms('DescribeKey', { KeyId: key.KeyId })).KeyMetadata as Meta;
  s.match('describe-key', meta);
  s.check(meta.KeyId === key.KeyId, 'DescribeKey names the key');
  s.check(String(meta.Arn).includes(`:${REGION}:`), 'the ARN names the region');
};

KMS_SCENARIOS.test_get_key_in_different_region = async (s) => {
  const key = await createKey(s, { Description: 'test key 123' }, SECONDARY_REGION);
  s.match('describe-key-diff-region-with-id', s.error(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.match('describe-key-diff-region-with-arn', s.error(await s.kms('DescribeKey', { KeyId: key.Arn })));
  s.match('describe-key-same-specific-region-with-id', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId }, { region: SECONDARY_REGION })));
  s.match('describe-key-same-specific-region-with-arn', s.whole(await s.kms('DescribeKey', { KeyId: key.Arn }, { region: SECONDARY_REGION })));
};

KMS_SCENARIOS.test_get_key_does_not_exist = async (s) => {
  const key = await createKey(s, { Description: 'test key 123' });
  const fake = '134f2428-cec1-4b25-a1ae-9048164dba47';
  s.match('describe-nonexistent-key-with-id', s.error(await s.kms('DescribeKey', { KeyId: fake })));
  s.match('describe-nonexistent-with-arn', s.error(await s.kms('DescribeKey', { KeyId: String(key.Arn).replace(String(key.KeyId), fake) })));
  s.match('describe-key-with-valid-id-mrk', s.error(await s.kms('DescribeKey', { KeyId: 'mrk-d3b95762d3b95762d3b95762d3b95762' })));
};

KMS_SCENARIOS.test_get_key_invalid_uuid = async (s) => {
  s.match('describe-key-with-invalid-uuid', s.error(await s.kms('DescribeKey', { KeyId: 'fake-key-id' })));
  s.match('describe-key-with-invalid-uuid-2', s.error(await s.kms('DescribeKey', { KeyId: '134f2428cec14b25a1ae9048164dba47' })));
  s.match('describe-key-with-invalid-uuid-mrk', s.error(await s.kms('DescribeKey', { KeyId: 'mrk-fake-key-id' })));
};

KMS_SCENARIOS.test_create_alias = async (s) => {
  const key = await createKey(s);
  s.match('create_alias', s.error(await s.kms('CreateAlias', { AliasName: shortUid(), TargetKeyId: key.KeyId })));
};

KMS_SCENARIOS.test_describe_with_alias_arn = async (s) => {
  const aliasName = `alias/${shortUid()}`;
  const key = await createKey(s, { Description: 'test - description' });
  s.match('created-key', key);
  s.ok(await s.kms('CreateAlias', { TargetKeyId: key.KeyId, AliasName: aliasName }), 'CreateAlias');
  const alias = await findAlias(s, aliasName);
  s.match('describe-key', s.whole(await s.kms('DescribeKey', { KeyId: alias?.AliasArn })));
};

KMS_SCENARIOS.test_create_multi_region_key = async (s) => {
  const key = await createKey(s, { MultiRegion: true, Description: 'test multi region key' });
  s.check(String(key.KeyId).startsWith('mrk-'), 'a multi-Region key id starts with mrk-');
  s.match('create_multi_region_key', key);
};

/** The region LocalStack's test_replicate_key replicates to (a literal in its recording). */
const REPLICA_REGION = 'ap-southeast-1';

KMS_SCENARIOS.test_replicate_key = async (s) => {
  const key = await createKey(s, { MultiRegion: true, Description: 'test replicated key' });
  s.match('describe-key-from-different-region', s.error(await s.kms('DescribeKey', { KeyId: key.KeyId }, { region: REPLICA_REGION })));
  s.match('replicate-key', s.whole(await s.kms('ReplicateKey', { KeyId: key.KeyId, ReplicaRegion: REPLICA_REGION })));
  s.match('describe-key-from-region', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.match('describe-replicated-key', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId }, { region: REPLICA_REGION })));
};

KMS_SCENARIOS.test_replicate_replica_key_should_fail = async (s) => {
  const key = await createKey(s, { MultiRegion: true });
  s.ok(await s.kms('ReplicateKey', { KeyId: key.KeyId, ReplicaRegion: SECONDARY_REGION }), 'ReplicateKey');
  // The replica, asked in its own region to replicate itself back.
  s.match('fail-replicate-non-primary-key', s.error(await s.kms('ReplicateKey', { KeyId: key.KeyId, ReplicaRegion: REGION }, { region: SECONDARY_REGION })));
};

KMS_SCENARIOS.test_non_multi_region_keys_should_not_have_multi_region_properties = async (s) => {
  const key = await createKey(s, { MultiRegion: false, Description: 'test non multi region key' });
  s.check(!String(key.KeyId).startsWith('mrk-'), 'a single-Region key id does not start with mrk-');
  s.match('non_multi_region_keys_should_not_have_multi_region_properties', key);
};

KMS_SCENARIOS.test_hmac_create_key = async (s) => {
  const before = await allKeyIds(s);
  const key = await createKey(s, { Description: 'test key', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  s.match('create-hmac-key', key);
  s.check(!before.has(String(key.KeyId)) && (await allKeyIds(s)).has(String(key.KeyId)), 'the new key is listed');
  s.match('describe-key', s.ok(await s.kms('DescribeKey', { KeyId: key.KeyId })).KeyMetadata);
};

KMS_SCENARIOS.test_hmac_create_key_invalid_operations = async (s) => {
  s.match('create-hmac-key-without-key-usage', s.error(await s.kms('CreateKey', { Description: 'test HMAC key without key usage', KeySpec: 'HMAC_256' })));
  s.match('create-hmac-key-invalid-spec', s.error(await s.kms('CreateKey', { Description: 'test invalid HMAC spec', KeySpec: 'HMAC_random' })));
  s.match('create-hmac-key-invalid-key-usage', s.error(await s.kms('CreateKey', { Description: 'test invalid HMAC spec', KeySpec: 'HMAC_256', KeyUsage: 'RANDOM' })));
};

// -- Sign/Verify ----------------------------------------------------------------------------------------
const SIGN_CASES = [
  ['RSA_2048', 'RSASSA_PSS_SHA_256'], ['RSA_2048', 'RSASSA_PSS_SHA_384'], ['RSA_2048', 'RSASSA_PSS_SHA_512'],
  ['RSA_4096', 'RSASSA_PKCS1_V1_5_SHA_256'], ['RSA_4096', 'RSASSA_PKCS1_V1_5_SHA_512'],
  ['ECC_NIST_P256', 'ECDSA_SHA_256'], ['ECC_NIST_P384', 'ECDSA_SHA_384'], ['ECC_SECG_P256K1', 'ECDSA_SHA_256'],
] as const;

for (const [spec, algo] of SIGN_CASES) {
  KMS_SCENARIOS[`test_sign_verify[${spec}-${algo}]`] = async (s) => {
    const plaintext = Buffer.from('test message !%$@ 1234567890');
    const digest = createHash(hashOf(algo)).update(plaintext).digest();
    const key = await createKey(s, { KeyUsage: 'SIGN_VERIFY', KeySpec: spec });
    const kw = { KeyId: key.KeyId, SigningAlgorithm: algo };
    const bad = s.ok(await s.kms('Sign', { MessageType: 'RAW', Message: blob('bad'), ...kw })).Signature;
    const signature = await s.kms('Sign', { MessageType: 'RAW', Message: blob(plaintext), ...kw });
    s.match('signature', s.whole(signature));
    const verification = await s.kms('Verify', { MessageType: 'RAW', Signature: s.ok(signature).Signature, Message: blob(plaintext), ...kw });
    s.match('verification', s.whole(verification));
    s.check(s.ok(verification).SignatureValid === true, 'the RAW signature verifies');
    const digestSig = s.ok(await s.kms('Sign', { MessageType: 'DIGEST', Message: blob(digest), ...kw })).Signature;
    s.check(s.ok(await s.kms('Verify', { MessageType: 'DIGEST', Signature: digestSig, Message: blob(digest), ...kw })).SignatureValid === true, 'the DIGEST signature verifies');
    const badDigest = await s.kms('Sign', { MessageType: 'DIGEST', Message: blob(plaintext), ...kw });
    s.match('bad-digest', s.error(badDigest));
    const badSig = await s.kms('Verify', { MessageType: 'RAW', Signature: bad, Message: blob(plaintext), ...kw });
    s.match('bad-signature', s.error(badSig));
    const badMessage = await s.kms('Verify', { MessageType: 'RAW', Signature: digestSig, Message: blob('bad message 321'), ...kw });
    s.check(badMessage.body.__type === 'KMSInvalidSignatureException', 'a signature of another message is KMSInvalidSignatureException');
    const badDigestVerify = await s.kms('Verify', { MessageType: 'DIGEST', Signature: digestSig, Message: blob('bad message 321'), ...kw });
    s.check(badDigestVerify.body.__type === 'ValidationException', 'a DIGEST of the wrong length is ValidationException');
  };
}

for (const [spec, algo] of SIGN_CASES) {
  KMS_SCENARIOS[`test_verify_salt_length[${spec}-${algo}]`] = async (s) => {
    const { verify } = await import('node:crypto');
    const plaintext = Buffer.from('test message !%$@ 1234567890');
    const hash = hashOf(algo);
    const digest = createHash(hash).update(plaintext).digest();
    const key = await createKey(s, { KeyUsage: 'SIGN_VERIFY', KeySpec: spec });
    const pub = createPublicKey({ key: bytes(s.ok(await s.kms('GetPublicKey', { KeyId: key.KeyId })).PublicKey), format: 'der', type: 'spki' });
    for (const [type, message] of [['RAW', plaintext], ['DIGEST', digest]] as const) {
      const sig = bytes(s.ok(await s.kms('Sign', { KeyId: key.KeyId, SigningAlgorithm: algo, MessageType: type, Message: blob(message) })).Signature);
      const opts = algo.startsWith('RSASSA_PSS')
        ? { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digest.length }
        : algo.startsWith('RSASSA_PKCS1') ? { key: pub, padding: constants.RSA_PKCS1_PADDING } : { key: pub, dsaEncoding: 'der' as const };
      // A DIGEST signature is a signature of the message whose digest it is (cryptography's Prehashed).
      s.check(verify(hash, plaintext, opts, sig), `the ${type} signature verifies offline with salt length ${digest.length}`);
    }
  };
}

// -- MAC ------------------------------------------------------------------------------------------------
for (const [spec, algo] of [['HMAC_224', 'HMAC_SHA_224'], ['HMAC_256', 'HMAC_SHA_256'], ['HMAC_384', 'HMAC_SHA_384'], ['HMAC_512', 'HMAC_SHA_512']]) {
  KMS_SCENARIOS[`test_generate_and_verify_mac[${spec}-${algo}]`] = async (s) => {
    const key = await createKey(s, { Description: 'test hmac key', KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' });
    const msg = blob('some important message');
    const mac = await s.kms('GenerateMac', { KeyId: key.KeyId, Message: msg, MacAlgorithm: algo });
    s.match('generate-mac', s.whole(mac));
    s.match('verify-mac', s.whole(await s.kms('VerifyMac', { KeyId: key.KeyId, Message: msg, MacAlgorithm: algo, Mac: s.ok(mac).Mac })));
    s.match('generate-mac-invalid-key-id', s.error(await s.kms('GenerateMac', { KeyId: 'key_id', Message: msg, MacAlgorithm: algo })));
    s.match('verify-mac-invalid-key-id', s.error(await s.kms('VerifyMac', { KeyId: 'key_id', Message: msg, MacAlgorithm: algo, Mac: s.ok(mac).Mac })));
  };
}

for (const [spec, algo] of [['HMAC_224', 'HMAC_SHA_256'], ['HMAC_256', 'INVALID']]) {
  KMS_SCENARIOS[`test_invalid_generate_mac[${spec}-${algo}]`] = async (s) => {
    const key = await createKey(s, { Description: 'test hmac key', KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' });
    s.match('generate-mac', s.error(await s.kms('GenerateMac', { KeyId: key.KeyId, Message: blob('some important message'), MacAlgorithm: algo })));
  };
}

for (const [spec, algo, verifyMsg] of [
  ['HMAC_256', 'HMAC_SHA_256', 'some different important message'],
  ['HMAC_256', 'HMAC_SHA_512', 'some important message'],
  ['HMAC_256', 'INVALID', 'some important message'],
]) {
  KMS_SCENARIOS[`test_invalid_verify_mac[${spec}-${algo}-${verifyMsg}]`] = async (s) => {
    const key = await createKey(s, { Description: 'test hmac key', KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' });
    const mac = await s.kms('GenerateMac', { KeyId: key.KeyId, Message: blob('some important message'), MacAlgorithm: 'HMAC_SHA_256' });
    s.match('generate-mac', s.whole(mac));
    s.match('verify-mac', s.error(await s.kms('VerifyMac', { KeyId: key.KeyId, Message: blob(verifyMsg!), MacAlgorithm: algo, Mac: s.ok(mac).Mac })));
  };
}

// -- Import ----------------------------------------------------------------------------------------------
async function importParams(s: Session, keyId: Json | undefined, algorithm = 'RSAES_OAEP_SHA_256', spec = 'RSA_2048'): Promise<Meta> {
  return s.ok(await s.kms('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }), 'GetParametersForImport');
}

KMS_SCENARIOS.test_import_key_symmetric = async (s) => {
  const key = await createKey(s, { Origin: 'EXTERNAL' });
  s.match('created-key', key);
  const plaintext = blob('test content 123 !#');
  s.match('encrypt-before-import-error', s.error(await s.kms('Encrypt', { Plaintext: plaintext, KeyId: key.KeyId })));
  const params = await importParams(s, key.KeyId);
  s.check(params.KeyId === key.Arn, 'GetParametersForImport names the key by ARN');
  s.check(typeof params.ParametersValidTo === 'number', 'ParametersValidTo is a timestamp');
  const encrypted = blob(oaepEncrypt(params.PublicKey, randomBytes(32)));
  s.match('describe-key-before-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.match('import-expiring-key-without-valid-to', s.error(await s.kms('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted })));
  s.ok(await s.kms('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }), 'ImportKeyMaterial');
  s.match('describe-key-after-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  const ct = s.ok(await s.kms('Encrypt', { Plaintext: plaintext, KeyId: key.KeyId })).CiphertextBlob;
  s.check(s.ok(await s.kms('Decrypt', { CiphertextBlob: ct, KeyId: key.KeyId })).Plaintext === plaintext, 'the imported key decrypts');
  s.ok(await s.kms('DeleteImportedKeyMaterial', { KeyId: key.KeyId }), 'DeleteImportedKeyMaterial');
  s.match('describe-key-after-deleted-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.match('encrypt-after-delete-error', s.error(await s.kms('Encrypt', { Plaintext: plaintext, KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_import_key_asymmetric = async (s) => {
  const key = await createKey(s, { Origin: 'EXTERNAL', KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  s.match('created-key', key);
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const params = await importParams(s, key.KeyId);
  const encrypted = blob(oaepEncrypt(params.PublicKey, pkcs8(pair.privateKey)));
  s.match('describe-key-before-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.ok(await s.kms('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }), 'ImportKeyMaterial');
  s.match('describe-key-after-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.check(s.ok(await s.kms('GetPublicKey', { KeyId: key.KeyId })).PublicKey === blob(spki(pair.publicKey)), 'the public key is derived from the imported key');
  const msg = blob('test content 123 !#');
  const sig = s.ok(await s.kms('Sign', { Message: msg, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', KeyId: key.KeyId })).Signature;
  s.check(s.ok(await s.kms('Verify', { Message: msg, Signature: sig, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', KeyId: key.KeyId })).SignatureValid === true, 'sign/verify');
  s.ok(await s.kms('DeleteImportedKeyMaterial', { KeyId: key.KeyId }), 'DeleteImportedKeyMaterial');
  s.match('describe-key-after-deleted-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_import_key_rsa_aes_wrap_sha256 = async (s) => {
  const key = await createKey(s, { Origin: 'EXTERNAL', KeySpec: 'RSA_4096', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  const pair = generateKeyPairSync('rsa', { modulusLength: 4096, publicExponent: 65537 });
  const aesKey = randomBytes(32);
  const wrapper = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
  const wrapped = Buffer.concat([wrapper.update(pkcs8(pair.privateKey)), wrapper.final()]);
  const params = await importParams(s, key.KeyId, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096');
  const blobOut = Buffer.concat([oaepEncrypt(params.PublicKey, aesKey), wrapped]);
  s.match('describe-before-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.ok(await s.kms('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: blob(blobOut), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }), 'ImportKeyMaterial');
  s.match('import-key-material-response', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.check(s.ok(await s.kms('GetPublicKey', { KeyId: key.KeyId })).PublicKey === blob(spki(pair.publicKey)), 'the public key is derived from the imported key');
  s.ok(await s.kms('DeleteImportedKeyMaterial', { KeyId: key.KeyId }), 'DeleteImportedKeyMaterial');
  s.match('describe-key-after-deleted-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
};

for (const [spec, curve, hash, signing, wrapSpec, wrapAlgo] of [
  ['ECC_NIST_P256', 'prime256v1', 'sha1', 'ECDSA_SHA_256', 'RSA_2048', 'RSAES_OAEP_SHA_1'],
  ['ECC_NIST_P384', 'secp384r1', 'sha1', 'ECDSA_SHA_384', 'RSA_2048', 'RSAES_OAEP_SHA_1'],
  ['ECC_NIST_P521', 'secp521r1', 'sha256', 'ECDSA_SHA_512', 'RSA_4096', 'RSAES_OAEP_SHA_256'],
  ['ECC_SECG_P256K1', 'secp256k1', 'sha1', 'ECDSA_SHA_256', 'RSA_2048', 'RSAES_OAEP_SHA_1'],
] as const) {
  KMS_SCENARIOS[`test_import_key_ecc_keys[${spec}]`] = async (s) => {
    const key = await createKey(s, { Origin: 'EXTERNAL', KeySpec: spec, KeyUsage: 'SIGN_VERIFY', Description: 'test ecc key import' });
    const pair = generateKeyPairSync('ec', { namedCurve: curve });
    const params = await importParams(s, key.KeyId, wrapAlgo, wrapSpec);
    const encrypted = blob(oaepEncrypt(params.PublicKey, pkcs8(pair.privateKey), hash));
    s.match('describe-key-before-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
    s.ok(await s.kms('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }), 'ImportKeyMaterial');
    s.match('describe-key-after-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
    s.check(s.ok(await s.kms('GetPublicKey', { KeyId: key.KeyId })).PublicKey === blob(spki(pair.publicKey)), 'the public key is derived from the imported key');
    const msg = blob('test sign verify 123 !%$@ 1234567890');
    const sign = await s.kms('Sign', { KeyId: key.KeyId, Message: msg, MessageType: 'RAW', SigningAlgorithm: signing });
    s.match('sign-result', s.whole(sign));
    const verify = await s.kms('Verify', { KeyId: key.KeyId, Message: msg, MessageType: 'RAW', SigningAlgorithm: signing, Signature: s.ok(sign).Signature });
    s.match('verify-result', s.whole(verify));
    s.ok(await s.kms('DeleteImportedKeyMaterial', { KeyId: key.KeyId }), 'DeleteImportedKeyMaterial');
    s.match('describe-key-after-deleted-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  };
}

for (const [spec, length, algo] of [['HMAC_224', 28, 'HMAC_SHA_224'], ['HMAC_256', 32, 'HMAC_SHA_256'], ['HMAC_384', 48, 'HMAC_SHA_384'], ['HMAC_512', 64, 'HMAC_SHA_512']] as const) {
  KMS_SCENARIOS[`test_import_key_hmac_keys[${spec}]`] = async (s) => {
    const key = await createKey(s, { Origin: 'EXTERNAL', KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'test import hmac key' });
    const params = await importParams(s, key.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_4096');
    const encrypted = blob(oaepEncrypt(params.PublicKey, randomBytes(length)));
    s.match('describe-key-before-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
    s.ok(await s.kms('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }), 'ImportKeyMaterial');
    s.match('describe-key-after-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
    const msg = blob('test-mac-message');
    const mac = await s.kms('GenerateMac', { KeyId: key.KeyId, Message: msg, MacAlgorithm: algo });
    s.match('generate-mac-response', s.whole(mac));
    const verify = await s.kms('VerifyMac', { KeyId: key.KeyId, Message: msg, Mac: s.ok(mac).Mac, MacAlgorithm: algo });
    s.match('verify-mac-response', s.whole(verify));
    s.ok(await s.kms('DeleteImportedKeyMaterial', { KeyId: key.KeyId }), 'DeleteImportedKeyMaterial');
    s.match('describe-key-after-deleted-import', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  };
}

KMS_SCENARIOS.test_get_parameters_for_import = async (s) => {
  const signKey = await createKey(s, { KeyUsage: 'SIGN_VERIFY', KeySpec: 'ECC_NIST_P256', Origin: 'EXTERNAL' });
  const params = await importParams(s, signKey.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_4096');
  s.check(params.KeyId === signKey.Arn && !!params.ImportToken && !!params.PublicKey, 'GetParametersForImport answers for an EXTERNAL key');
  const key = await createKey(s);
  s.match('response-error', s.error(await s.kms('GetParametersForImport', { KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' })));
};

KMS_SCENARIOS.test_get_parameters_for_import_raises_for_non_external_kms_keys = async (s) => {
  const key = await createKey(s);
  s.match('get-import-parameters-error', s.error(await s.kms('GetParametersForImport', { KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })));
};

// -- Data keys -------------------------------------------------------------------------------------------
KMS_SCENARIOS.test_generate_data_key_pair_without_plaintext = async (s) => {
  const key = await createKey(s);
  s.match('generate-data-key-pair-without-plaintext', s.whole(await s.kms('GenerateDataKeyPairWithoutPlaintext', { KeyId: key.KeyId, KeyPairSpec: 'RSA_2048' })));
};

KMS_SCENARIOS.test_generate_data_key_pair = async (s) => {
  const key = await createKey(s);
  const res = await s.kms('GenerateDataKeyPair', { KeyId: key.KeyId, KeyPairSpec: 'RSA_2048' });
  s.match('generate-data-key-pair', s.whole(res));
  const out = s.ok(res);
  s.check(s.ok(await s.kms('Decrypt', { CiphertextBlob: out.PrivateKeyCiphertextBlob, KeyId: key.KeyId })).Plaintext === out.PrivateKeyPlaintext, 'the private key decrypts');
};

KMS_SCENARIOS.test_generate_data_key = async (s) => {
  const key = await createKey(s);
  const res = await s.kms('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' });
  s.match('generate-data-key-result', s.whole(res));
  const out = s.ok(res);
  s.check(s.ok(await s.kms('Decrypt', { CiphertextBlob: out.CiphertextBlob, KeyId: key.KeyId })).Plaintext === out.Plaintext, 'the data key decrypts');
};

KMS_SCENARIOS.test_generate_data_key_without_plaintext = async (s) => {
  const key = await createKey(s);
  s.match('generate-data-key-without-plaintext', s.whole(await s.kms('GenerateDataKeyWithoutPlaintext', { KeyId: key.KeyId, KeySpec: 'AES_256' })));
};

for (const [name, op, extra, member] of [
  ['test_encryption_context_generate_data_key', 'GenerateDataKey', { KeySpec: 'AES_256' }, 'CiphertextBlob'],
  ['test_encryption_context_generate_data_key_without_plaintext', 'GenerateDataKeyWithoutPlaintext', { KeySpec: 'AES_256' }, 'CiphertextBlob'],
  ['test_encryption_context_generate_data_key_pair', 'GenerateDataKeyPair', { KeyPairSpec: 'RSA_2048' }, 'PrivateKeyCiphertextBlob'],
  ['test_encryption_context_generate_data_key_pair_without_plaintext', 'GenerateDataKeyPairWithoutPlaintext', { KeyPairSpec: 'RSA_2048' }, 'PrivateKeyCiphertextBlob'],
] as const) {
  KMS_SCENARIOS[name] = async (s) => {
    const key = await createKey(s);
    const out = s.ok(await s.kms(op, { KeyId: key.KeyId, ...extra, EncryptionContext: { 'context-key': 'context-value' } }), op);
    s.match('decrypt-without-encryption-context', s.error(await s.kms('Decrypt', { CiphertextBlob: out[member], KeyId: key.KeyId })));
  };
}

KMS_SCENARIOS.test_generate_data_key_pair_dry_run = async (s) => {
  const key = await createKey(s);
  s.match('dryrun_exception', s.error(await s.kms('GenerateDataKeyPair', { KeyId: key.KeyId, KeyPairSpec: 'RSA_2048', DryRun: true })));
};

KMS_SCENARIOS.test_generate_data_key_pair_without_plaintext_dry_run = async (s) => {
  const key = await createKey(s);
  s.ok(await s.kms('GenerateDataKeyPairWithoutPlaintext', { KeyId: key.KeyId, KeyPairSpec: 'RSA_2048' }));
  s.match('dryrun_exception', s.error(await s.kms('GenerateDataKeyPairWithoutPlaintext', { KeyId: key.KeyId, KeyPairSpec: 'RSA_2048', DryRun: true })));
};

// -- Key agreement ---------------------------------------------------------------------------------------
KMS_SCENARIOS.test_derive_shared_secret = async (s) => {
  const key1 = await createKey(s, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  const pub1 = s.ok(await s.kms('GetPublicKey', { KeyId: key1.KeyId })).PublicKey;
  const key2 = await createKey(s, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  const pub2 = s.ok(await s.kms('GetPublicKey', { KeyId: key2.KeyId })).PublicKey;
  const secret1 = await s.kms('DeriveSharedSecret', { KeyId: key1.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: pub2 });
  s.match('response', s.whole(secret1));
  const secret2 = s.ok(await s.kms('DeriveSharedSecret', { KeyId: key2.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: pub1 }));
  s.check(s.ok(secret1).SharedSecret === secret2.SharedSecret, 'both sides derive the same secret');
  const key3 = await createKey(s, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  s.match('response-invalid-key-usage', s.error(await s.kms('DeriveSharedSecret', { KeyId: key3.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: pub2 })));
  s.match('response-invalid-key-spec', s.error(await s.kms('CreateKey', { Description: `test description - ${shortUid()}`, KeySpec: 'RSA_2048', KeyUsage: 'KEY_AGREEMENT' })));
  s.match('response-invalid-key-agreement-algo', s.error(await s.kms('DeriveSharedSecret', { KeyId: key1.KeyId, KeyAgreementAlgorithm: 'INVALID', PublicKey: pub2 })));
  const key4 = await createKey(s);
  s.match('response-invalid-key', s.error(await s.kms('DeriveSharedSecret', { KeyId: key4.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: pub2 })));
  s.match('response-invalid-public-key', s.error(await s.kms('DeriveSharedSecret', { KeyId: key1.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: blob('InvalidPublicKey') })));
};

KMS_SCENARIOS.test_derive_shared_secret_matches_openssl = async (s) => {
  // The test derives with a local key pair and compares with OpenSSL; only KMS's answer is recorded.
  const { diffieHellman } = await import('node:crypto');
  const key = await createKey(s, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  const pub = createPublicKey({ key: bytes(s.ok(await s.kms('GetPublicKey', { KeyId: key.KeyId })).PublicKey), format: 'der', type: 'spki' });
  const local = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const res = await s.kms('DeriveSharedSecret', { KeyId: key.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: blob(spki(local.publicKey)) });
  s.match('derived-shared-key-resp', s.whole(res));
  s.check(s.ok(res).SharedSecret === blob(diffieHellman({ privateKey: local.privateKey, publicKey: pub })), 'the shared secret equals the local ECDH result');
};

// -- Tags ------------------------------------------------------------------------------------------------
async function listTags(s: Session, keyId: Json | undefined): Promise<Json | undefined> {
  return s.ok(await s.kms('ListResourceTags', { KeyId: keyId }), 'ListResourceTags').Tags;
}

KMS_SCENARIOS.test_tag_existing_key_and_untag = async (s) => {
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT' });
  const t = tags({ tag1: 'value1', tag2: 'value2' });
  s.ok(await s.kms('TagResource', { KeyId: key.KeyId, Tags: t }), 'TagResource');
  s.match('list-resource-tags', await listTags(s, key.KeyId));
  s.ok(await s.kms('UntagResource', { KeyId: key.KeyId, TagKeys: t.map((x) => x.TagKey) }), 'UntagResource');
  s.match('list-resource-tags-after-all-untagged', await listTags(s, key.KeyId));
};

KMS_SCENARIOS.test_create_key_with_tag_and_untag = async (s) => {
  const t = tags({ tag1: 'value1', tag2: 'value2' });
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT', Tags: t });
  s.match('list-resource-tags', await listTags(s, key.KeyId));
  s.ok(await s.kms('UntagResource', { KeyId: key.KeyId, TagKeys: t.map((x) => x.TagKey) }), 'UntagResource');
  s.match('list-resource-tags-after-all-untagged', await listTags(s, key.KeyId));
};

KMS_SCENARIOS.test_untag_key_partially = async (s) => {
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT', Tags: tags({ tag1: 'value1', tag2: 'value2', tag3: 'value3' }) });
  s.match('list-resource-tags', await listTags(s, key.KeyId));
  s.ok(await s.kms('UntagResource', { KeyId: key.KeyId, TagKeys: ['tag2'] }), 'UntagResource');
  s.match('list-resource-tags-after-partially-untagged', await listTags(s, key.KeyId));
};

KMS_SCENARIOS.test_update_and_add_tags_on_tagged_key = async (s) => {
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT', Tags: tags({ tag1: 'value1', tag2: 'value2', tag3: 'value3' }) });
  s.match('list-resource-tags', await listTags(s, key.KeyId));
  s.ok(await s.kms('TagResource', { KeyId: key.KeyId, Tags: tags({ tag4: 'value4', tag2: 'updated_value2', tag5: 'value5' }) }), 'TagResource');
  s.match('list-resource-tags-after-tags-updated', await listTags(s, key.KeyId));
};

KMS_SCENARIOS.test_tag_key_with_duplicate_tag_keys_raises_error = async (s) => {
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT' });
  s.match('duplicate-tag-keys', s.error(await s.kms('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'tag1', TagValue: 'value1' }, { TagKey: 'tag1', TagValue: 'another-value1' }] })));
};

KMS_SCENARIOS.test_create_key_with_too_many_tags_raises_error = async (s) => {
  const t = tags(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`key${i}`, `value${i}`])));
  s.match('invalid-tag-key', s.error(await s.kms('CreateKey', { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT', Tags: t })));
};

for (const [id, tagKey] of [['lowercase_prefix', 'aws:key1'], ['uppercase_prefix', 'AWS:key1'], ['too_long_key', 'a'.repeat(129)]]) {
  KMS_SCENARIOS[`test_create_key_with_invalid_tag_key[${id}]`] = async (s) => {
    s.match('invalid-tag-key', s.error(await s.kms('CreateKey', { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT', Tags: tags({ [tagKey!]: 'value1' }) })));
  };
}

KMS_SCENARIOS.test_tag_existing_key_with_invalid_tag_key = async (s) => {
  const key = await createKey(s, { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT' });
  s.match('invalid-tag-key', s.error(await s.kms('TagResource', { KeyId: key.KeyId, Tags: tags({ 'aws:key1': 'value1' }) })));
};

KMS_SCENARIOS.test_key_with_long_tag_value_raises_error = async (s) => {
  s.match('too-long-tag-value', s.error(await s.kms('CreateKey', { Description: 'test key 123', KeyUsage: 'ENCRYPT_DECRYPT', Tags: tags({ tag1: 'v'.repeat(257) }) })));
};

// -- Rotation --------------------------------------------------------------------------------------------
for (const days of [90, 180]) {
  KMS_SCENARIOS[`test_key_enable_rotation_status[${days}]`] = async (s) => {
    const key = await createKey(s);
    s.ok(await s.kms('EnableKeyRotation', { KeyId: key.KeyId, RotationPeriodInDays: days }), 'EnableKeyRotation');
    s.match('match_response', s.whole(await s.kms('GetKeyRotationStatus', { KeyId: key.KeyId })));
  };
}

KMS_SCENARIOS.test_rotate_on_demand_returns_arn_for_key_id = async (s) => {
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' });
  const res = await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId });
  s.match('rotate-on-demand-aws-key', s.whole(res));
  s.check(res.body.KeyId === key.Arn, 'RotateKeyOnDemand names the key by ARN');
};

KMS_SCENARIOS.test_rotate_key_on_demand_modifies_key_material = async (s) => {
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' });
  const before = s.ok(await s.kms('Encrypt', { KeyId: key.KeyId, Plaintext: blob(blob(MESSAGE)) })).CiphertextBlob;
  s.match('rotate-on-demand-response', s.whole(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
  const after = s.ok(await s.kms('Encrypt', { KeyId: key.KeyId, Plaintext: blob(blob(MESSAGE)) })).CiphertextBlob;
  s.check(before !== after, 'a ciphertext after rotation differs');
};

async function rotationDone(s: Session, keyId: Json | undefined): Promise<Meta> {
  for (let i = 0; i < 50; i++) {
    const status = s.ok(await s.kms('GetKeyRotationStatus', { KeyId: keyId }), 'GetKeyRotationStatus');
    if (!('OnDemandRotationStartDate' in status)) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('on-demand rotation did not complete');
}

KMS_SCENARIOS.test_rotate_key_on_demand_with_symmetric_key_and_automatic_rotation_disabled = async (s) => {
  const key = await createKey(s);
  s.match('rotate-on-demand-response', s.whole(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
  await rotationDone(s, key.KeyId);
  s.match('rotation-status-response-after-rotation', s.whole(await s.kms('GetKeyRotationStatus', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_rotate_key_on_demand_with_symmetric_key_and_automatic_rotation_enabled = async (s) => {
  const key = await createKey(s);
  s.ok(await s.kms('EnableKeyRotation', { KeyId: key.KeyId }), 'EnableKeyRotation');
  const before = s.ok(await s.kms('GetKeyRotationStatus', { KeyId: key.KeyId }));
  s.match('rotate-on-demand-response', s.whole(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
  const after = s.ok(await s.kms('GetKeyRotationStatus', { KeyId: key.KeyId }));
  s.check(after.NextRotationDate === before.NextRotationDate, 'on-demand rotation leaves NextRotationDate');
  await rotationDone(s, key.KeyId);
  s.match('rotation-status-response-after-rotation', s.whole(await s.kms('GetKeyRotationStatus', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_rotate_key_on_demand_raises_error_given_key_is_disabled = async (s) => {
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'RSA_4096' });
  s.ok(await s.kms('DisableKey', { KeyId: key.KeyId }), 'DisableKey');
  s.match('error-response', s.error(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_rotate_key_on_demand_raises_error_given_key_that_does_not_exist = async (s) => {
  s.match('error-response', s.error(await s.kms('RotateKeyOnDemand', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })));
};

KMS_SCENARIOS.test_rotate_key_on_demand_raises_error_given_non_symmetric_key = async (s) => {
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'RSA_4096' });
  s.match('error-response', s.error(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_rotate_key_on_demand_raises_error_given_key_with_imported_key_material = async (s) => {
  // Not in the version of test_kms.py read: an EXTERNAL symmetric key with its material imported.
  const key = await createKey(s, { Origin: 'EXTERNAL', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  const params = await importParams(s, key.KeyId);
  s.ok(await s.kms('ImportKeyMaterial', {
    KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: blob(oaepEncrypt(params.PublicKey, randomBytes(32))), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
  }), 'ImportKeyMaterial');
  s.match('error-response', s.error(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
};

for (const spec of ['SYMMETRIC_DEFAULT', 'RSA_4096']) {
  KMS_SCENARIOS[`test_rotate_key_on_demand_on_external_key_with_no_key_material[${spec}]`] = async (s) => {
    // The test creates every case with the default spec (its key_spec only names the snapshot).
    const key = await createKey(s, { Origin: 'EXTERNAL', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
    s.match('create-kms-external-key', key);
    s.match(`rotate-key-on-demand-error-response-${spec}`, s.error(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
  };
}

/** An EXTERNAL symmetric key with 32 random bytes imported (KEY_MATERIAL_DOES_NOT_EXPIRE); the ImportKeyMaterial response. */
async function importRandom(s: Session, keyId: Json | undefined, extra: Record<string, unknown> = {}) {
  const params = await importParams(s, keyId);
  return s.kms('ImportKeyMaterial', {
    KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: blob(oaepEncrypt(params.PublicKey, randomBytes(32))),
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ...extra,
  });
}

KMS_SCENARIOS.test_rotate_key_on_demand_updates_current_key_material_for_external_keys = async (s) => {
  const key = await createKey(s, { Origin: 'EXTERNAL', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  s.match('create-kms-external-key', key);
  const paramsRes = await s.kms('GetParametersForImport', { KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  const params = s.ok(paramsRes);
  s.check(params.KeyId === key.Arn, 'GetParametersForImport names the key by ARN');
  s.match('get-import-parameters-response', s.whole(paramsRes));
  const initial = oaepEncrypt(params.PublicKey, randomBytes(32));
  s.match('describe-empty-key-response', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.match('import-key-material-response', s.whole(await s.kms('ImportKeyMaterial', {
    KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: blob(initial), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
  })));
  const described = await s.kms('DescribeKey', { KeyId: key.KeyId });
  const currentId = (s.ok(described).KeyMetadata as Meta).CurrentKeyMaterialId;
  s.check(currentId !== undefined, 'DescribeKey has CurrentKeyMaterialId after the first import');
  s.match('describe-key-with-material-response', s.whole(described));
  const plaintext = blob('Hello World!1/?');
  const encrypted = await s.kms('Encrypt', { Plaintext: plaintext, KeyId: key.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  s.match('kms-encrypt-initial-response', s.whole(encrypted));
  const initialCt = s.ok(encrypted).CiphertextBlob;
  s.check(s.ok(await s.kms('Decrypt', { CiphertextBlob: initialCt, KeyId: key.KeyId })).Plaintext === plaintext, 'the first material decrypts');
  s.match('import-new-key-material-response', s.whole(await importRandom(s, key.KeyId, { ImportType: 'NEW_KEY_MATERIAL' })));
  s.match('describe-key-with-new-material-response', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.match('rotate-key-on-demand-response', s.whole(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
  const after = await s.kms('DescribeKey', { KeyId: key.KeyId });
  s.check((s.ok(after).KeyMetadata as Meta).CurrentKeyMaterialId !== currentId, 'RotateKeyOnDemand changes CurrentKeyMaterialId');
  s.match('describe-key-after-rotation', s.whole(after));
  const rotated = await s.kms('Encrypt', { Plaintext: plaintext, KeyId: key.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  s.match('kms-encrypt-rotated-key-response', s.whole(rotated));
  const newCt = s.ok(rotated).CiphertextBlob;
  s.check(newCt !== initialCt, 'a ciphertext after rotation differs');
  s.check(s.ok(await s.kms('Decrypt', { CiphertextBlob: newCt, KeyId: key.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })).Plaintext === plaintext, 'the new material decrypts');
};

KMS_SCENARIOS.test_import_key_material_raises_if_there_is_already_key_material_pending = async (s) => {
  // Written from the recording (the test is not in the version of test_kms.py read): initial material,
  // new material pending rotation, then a second NEW_KEY_MATERIAL import.
  const key = await createKey(s, { Origin: 'EXTERNAL', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  s.match('import-initial-material-response', s.whole(await importRandom(s, key.KeyId)));
  s.match('import-pending-material-response', s.whole(await importRandom(s, key.KeyId, { ImportType: 'NEW_KEY_MATERIAL' })));
  s.match('existing-pending-material-error', s.error(await importRandom(s, key.KeyId, { ImportType: 'NEW_KEY_MATERIAL' })));
};

KMS_SCENARIOS.test_rotate_key_on_demand_for_external_keys_decrypts_with_previous_material = async (s) => {
  // Written from the recording: a ciphertext under the first material decrypts after rotating to new material.
  const key = await createKey(s, { Origin: 'EXTERNAL', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  s.match('create-kms-external-key', key);
  s.match('import-key-material-response', s.whole(await importRandom(s, key.KeyId)));
  const plaintext = blob('Hello World!1/?');
  const encrypted = await s.kms('Encrypt', { Plaintext: plaintext, KeyId: key.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  s.match('kms-encrypt-initial-response', s.whole(encrypted));
  s.ok(await importRandom(s, key.KeyId, { ImportType: 'NEW_KEY_MATERIAL' }), 'ImportKeyMaterial NEW_KEY_MATERIAL');
  s.match('rotate-key-on-demand-response', s.whole(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
  const decrypted = s.ok(await s.kms('Decrypt', { CiphertextBlob: s.ok(encrypted).CiphertextBlob, KeyId: key.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
  s.check(decrypted.Plaintext === plaintext, 'a ciphertext under the previous material decrypts after rotation');
};

KMS_SCENARIOS.test_rotate_key_on_demand_raises_for_no_pending_key_material = async (s) => {
  // Written from the recording: an EXTERNAL key with material imported and none pending rotation.
  const key = await createKey(s, { Origin: 'EXTERNAL', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  s.ok(await importRandom(s, key.KeyId), 'ImportKeyMaterial');
  s.match('rotate-key-on-demand-invalid-state-error', s.error(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_key_rotations_encryption_decryption = async (s) => {
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' });
  const ct = bytes(s.ok(await s.kms('Encrypt', { KeyId: key.KeyId, Plaintext: blob(blob(MESSAGE)), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })).CiphertextBlob);
  const before = s.ok(await s.kms('Decrypt', { KeyId: key.KeyId, CiphertextBlob: blob(ct), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })).Plaintext;
  s.ok(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId }), 'RotateKeyOnDemand');
  const after = s.ok(await s.kms('Decrypt', { KeyId: key.KeyId, CiphertextBlob: blob(ct), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })).Plaintext;
  s.check(before === after, 'a ciphertext from before rotation decrypts after it');
  s.match('bad-ciphertext', s.error(await s.kms('Decrypt', {
    KeyId: key.KeyId, CiphertextBlob: blob(Buffer.concat([ct, Buffer.from('bad_data')])), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  })));
};

KMS_SCENARIOS.test_key_rotations_limits = async (s) => {
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' });
  // AWS's limit (ON_DEMAND_ROTATION_LIMIT in LocalStack's models.py) is 25 on-demand rotations per key.
  for (let i = 0; i < 25; i++) {
    s.ok(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId }), `RotateKeyOnDemand #${i + 1}`);
    await rotationDone(s, key.KeyId);
  }
  s.match('error-response', s.error(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId })));
};

KMS_SCENARIOS.test_key_rotation_updates_current_key_material_id_for_aws_symmetric_keys = async (s) => {
  // Not in the version of test_kms.py read: DescribeKey before and after an on-demand rotation.
  const key = await createKey(s, { KeyUsage: 'ENCRYPT_DECRYPT', Description: 'test-key' });
  s.match('describe-key-before-rotation', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
  s.ok(await s.kms('RotateKeyOnDemand', { KeyId: key.KeyId }), 'RotateKeyOnDemand');
  await rotationDone(s, key.KeyId);
  s.match('describe-key-after-rotation', s.whole(await s.kms('DescribeKey', { KeyId: key.KeyId })));
};
