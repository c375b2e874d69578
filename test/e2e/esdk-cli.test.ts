/**
 * `trent encrypt` / `trent decrypt` end to end (docs/esdk.md): the real CLI (bin/trent.js) as a child
 * process against the real server; messages checked both ways against the AWS Encryption SDK used
 * directly; wrong key, wrong context, truncation, altered bytes and too many data keys each fail with one
 * line on stderr, a non-zero exit and no output file (nor temporary file) left behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AlgorithmSuiteIdentifier, buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { CreateAliasCommand, CreateKeyCommand, KMS } from '@aws-sdk/client-kms';
import { ACCOUNT_ID, ADMIN, REGION, startServer, type TestServer } from './harness.ts';
import { allow, principals, type Credentials } from './principals.ts';

const MiB = 2 ** 20;
const TIME = '/usr/bin/time';

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string; peakRssKb?: number }

let s: TestServer;
let dir: string;
let keyA: string; // ARN
let keyB: string; // ARN
let keyBId: string;

function cliEnv(creds: Credentials = ADMIN): NodeJS.ProcessEnv {
  return { ...process.env, TRENT_ENDPOINT: s.url, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, TRENT_REGION: REGION };
}

/** Runs bin/trent.js; with `measure`, under /usr/bin/time to read the child's peak RSS. */
function trent(args: string[], o: { input?: Buffer; creds?: Credentials; measure?: boolean } = {}): Promise<Run> {
  const rssFile = o.measure ? join(dir, `rss-${randomBytes(4).toString('hex')}.txt`) : undefined;
  const [cmd, argv] = rssFile
    ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, 'bin/trent.js', ...args]]
    : [process.execPath, ['bin/trent.js', ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: cliEnv(o.creds), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const run: Run = { code, signal, stdout: Buffer.concat(out), stderr: err };
      if (rssFile) {
        run.peakRssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        rmSync(rssFile);
      }
      resolve(run);
    });
    child.stdin.end(o.input ?? Buffer.alloc(0));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function esdkKms(): KMS {
  return new KMS({ endpoint: s.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
}

/** The files in the test directory that are not `keep`: what a failed command must not have left. */
function leftovers(keep: string[]): string[] {
  return readdirSync(dir).filter((f) => !keep.includes(f));
}

/** A failure: non-zero exit, exactly one line on stderr matching `why`, no output or temporary file. */
function assertFailed(r: Run, why: RegExp, keep: string[]): void {
  assert.notEqual(r.code, 0, `expected a failure; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0]!, /^trent (en|de)crypt: /);
  assert.match(lines[0]!, why);
  assert.deepEqual(leftovers(keep), [], 'no output file and no temporary file after a failure');
}

before(async () => {
  s = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'trent-esdk-'));
  const kms = s.kms();
  const a = await kms.send(new CreateKeyCommand({ Description: 'esdk a' }));
  const b = await kms.send(new CreateKeyCommand({ Description: 'esdk b' }));
  keyA = a.KeyMetadata!.Arn!;
  keyB = b.KeyMetadata!.Arn!;
  keyBId = b.KeyMetadata!.KeyId!;
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/esdk-a', TargetKeyId: a.KeyMetadata!.KeyId! }));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await s.stop(true);
});

describe('trent encrypt / decrypt round trips', () => {
  for (const size of [0, 1, MiB]) {
    test(`${size} B: encrypted under an alias and a key id with a context, decrypts${size === MiB ? ' with either key' : ''}, file to file`, async () => {
      const plain = randomBytes(size);
      const pin = join(dir, 'plain.bin');
      writeFileSync(pin, plain);
      const enc = await trent(['encrypt', '-k', 'alias/esdk-a', '-k', keyBId, '-c', 'purpose=backup', '-c', 'team=ops', '-i', pin, '-o', join(dir, 'msg.enc')]);
      assert.equal(enc.code, 0, enc.stderr);
      assert.equal(enc.stderr, '', 'nothing on stderr on success (not a TTY: no progress bar)');
      assert.equal(enc.stdout.length, 0);
      for (const key of size === MiB ? ['alias/esdk-a', keyB] : ['alias/esdk-a']) {
        const dec = await trent(['decrypt', '-k', key, '-c', 'purpose=backup', '-i', join(dir, 'msg.enc'), '-o', join(dir, 'out.bin')]);
        assert.equal(dec.code, 0, dec.stderr);
        assert.equal(dec.stderr, '');
        assert.equal(sha(readFileSync(join(dir, 'out.bin'))), sha(plain));
        rmSync(join(dir, 'out.bin'));
      }
      assert.deepEqual(leftovers(['plain.bin', 'msg.enc']), []);
      rmSync(pin);
      rmSync(join(dir, 'msg.enc'));
    });
  }

  test('stdin to stdout both ways (1 MiB)', async () => {
    const plain = randomBytes(MiB);
    const enc = await trent(['encrypt', '-k', keyA], { input: plain });
    assert.equal(enc.code, 0, enc.stderr);
    assert.ok(enc.stdout.length > plain.length);
    const dec = await trent(['decrypt', '-k', keyA], { input: enc.stdout });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(sha(dec.stdout), sha(plain));
  });

  test('64 MiB streams: the CLI process peaks under 200 MB each way (holding the data would take 2 × 64 MiB above the ~110 MB the loaded CLI uses)', { skip: existsSync(TIME) ? false : `${TIME} not installed: cannot measure the child's peak RSS` }, async () => {
    const plain = randomBytes(64 * MiB);
    const pin = join(dir, 'big.bin');
    writeFileSync(pin, plain);
    try {
      const enc = await trent(['encrypt', '-k', keyA, '-i', pin, '-o', join(dir, 'big.enc')], { measure: true });
      assert.equal(enc.code, 0, enc.stderr);
      const dec = await trent(['decrypt', '-k', keyA, '-i', join(dir, 'big.enc'), '-o', join(dir, 'big.out')], { measure: true });
      assert.equal(dec.code, 0, dec.stderr);
      assert.equal(sha(readFileSync(join(dir, 'big.out'))), sha(plain));
      assert.ok(enc.peakRssKb! < 200_000, `encrypt peak RSS ${enc.peakRssKb} KB`);
      assert.ok(dec.peakRssKb! < 200_000, `decrypt peak RSS ${dec.peakRssKb} KB`);
    } finally {
      for (const f of ['big.bin', 'big.enc', 'big.out']) rmSync(join(dir, f), { force: true });
    }
  });
});

describe('interop with the AWS Encryption SDK used directly', () => {
  test('a message trent encrypt makes decrypts with @aws-crypto/client-node alone: committing ECDSA P-384 suite, the context bound', async () => {
    const plain = randomBytes(100_000);
    const enc = await trent(['encrypt', '-k', 'alias/esdk-a', '-c', 'purpose=interop'], { input: plain });
    assert.equal(enc.code, 0, enc.stderr);
    const kms = esdkKms();
    try {
      const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
      const out = await decrypt(new KmsKeyringNode({ keyIds: [keyA], clientProvider: () => kms }), enc.stdout);
      assert.equal(sha(out.plaintext), sha(plain));
      assert.equal(out.messageHeader.suiteId, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384);
      assert.equal(out.messageHeader.encryptionContext.purpose, 'interop');
      assert.deepEqual(out.messageHeader.encryptedDataKeys.map((k) => [k.providerId, k.providerInfo]), [['aws-kms', keyA]]);
    } finally {
      kms.destroy();
    }
  });

  test('a message the ESDK makes (its defaults, 4 KiB frames) decrypts with trent decrypt, by alias and by discovery', async () => {
    const plain = randomBytes(50_000);
    const kms = esdkKms();
    let message: Buffer;
    try {
      const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
      ({ result: message } = await encrypt(new KmsKeyringNode({ generatorKeyId: keyB, clientProvider: () => kms }), plain, { encryptionContext: { origin: 'esdk' } }));
    } finally {
      kms.destroy();
    }
    const byKey = await trent(['decrypt', '-k', keyBId, '-c', 'origin=esdk'], { input: message });
    assert.equal(byKey.code, 0, byKey.stderr);
    assert.equal(sha(byKey.stdout), sha(plain));
    const byDiscovery = await trent(['decrypt', '--discovery', '--account', ACCOUNT_ID, '--partition', 'aws'], { input: message });
    assert.equal(byDiscovery.code, 0, byDiscovery.stderr);
    assert.equal(sha(byDiscovery.stdout), sha(plain));
  });
});

describe('failures: one line on stderr, non-zero exit, no plaintext on disk', () => {
  let message: Buffer;
  const plain = randomBytes(MiB);
  const keep = ['msg.enc', 'bad.enc'];
  const out = () => join(dir, 'out.bin');
  const decryptBad = (bytes: Buffer, args: string[] = ['-k', keyA], creds?: Credentials) => {
    writeFileSync(join(dir, 'bad.enc'), bytes);
    return trent(['decrypt', ...args, '-i', join(dir, 'bad.enc'), '-o', out()], { ...(creds ? { creds } : {}) });
  };

  before(async () => {
    // 64 KiB frames: sixteen of them, so a message cut or stopped half-way has released plaintext already.
    const enc = await trent(['encrypt', '-k', keyA, '-k', keyB, '-c', 'purpose=backup', '--frame-length', '65536'], { input: plain });
    assert.equal(enc.code, 0, enc.stderr);
    message = enc.stdout;
    writeFileSync(join(dir, 'msg.enc'), message);
  });

  test('wrong key: a key the message was not encrypted under', async () => {
    const other = await s.kms().send(new CreateKeyCommand({}));
    assertFailed(await decryptBad(message, ['-k', other.KeyMetadata!.Arn!]), /none of the message's data keys could be decrypted/, keep);
  });

  test('a discovery filter naming another account matches no data key', async () => {
    assertFailed(await decryptBad(message, ['--discovery', '--account', '999999999999']), /none of the message's data keys could be decrypted/, keep);
  });

  test('a caller Trent refuses kms:Decrypt to gets the AWS error, in one line', async () => {
    const user = await principals(s).newUser('esdk-encrypt-only', allow(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey']));
    assertFailed(await decryptBad(message, ['-k', keyA], user), /Trent refused to decrypt the message's data key: AccessDeniedException/, keep);
  });

  test('wrong context: an expected pair with another value, or absent', async () => {
    assertFailed(await decryptBad(message, ['-k', keyA, '-c', 'purpose=other']), /encryption context does not contain purpose=other/, keep);
    assertFailed(await decryptBad(message, ['-k', keyA, '-c', 'purpose=backup', '-c', 'team=ops']), /does not contain team=ops/, keep);
  });

  test('truncated in the body and truncated by the last bytes (the signature)', async () => {
    assertFailed(await decryptBad(message.subarray(0, message.length >> 1)), /truncated/, keep);
    assertFailed(await decryptBad(message.subarray(0, message.length - 10)), /truncated/, keep);
  });

  test('one byte altered in the body', async () => {
    const bad = Buffer.from(message);
    bad[bad.length >> 1]! ^= 0x01;
    assertFailed(await decryptBad(bad), /altered/, keep);
  });

  test('one byte altered in the header (the message id)', async () => {
    const bad = Buffer.from(message);
    bad[10]! ^= 0x01; // version (1) and suite (2) come first, then the 32-byte message id
    assertFailed(await decryptBad(bad), /altered/, keep);
  });

  test('--max-encrypted-data-keys: 1 refuses a message with two data keys, 2 accepts it', async () => {
    assertFailed(await decryptBad(message, ['-k', keyA, '--max-encrypted-data-keys', '1']), /more encrypted data keys than --max-encrypted-data-keys/, keep);
    const ok = await trent(['decrypt', '-k', keyA, '--max-encrypted-data-keys', '2', '-i', join(dir, 'msg.enc'), '-o', out()]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(sha(readFileSync(out())), sha(plain));
    rmSync(out());
  });

  test('a failed decrypt leaves an existing output file as it was', async () => {
    writeFileSync(out(), 'previous contents');
    const bad = Buffer.from(message);
    bad[bad.length - 200]! ^= 0x01;
    const r = await decryptBad(bad);
    assert.notEqual(r.code, 0);
    assert.equal(readFileSync(out(), 'utf8'), 'previous contents');
    assertFailed(r, /altered|truncated/, [...keep, 'out.bin']);
    rmSync(out());
  });

  test('an unknown alias is named in the error', async () => {
    assertFailed(await decryptBad(message, ['-k', 'alias/no-such-alias']), /key alias\/no-such-alias: NotFoundException/, keep);
  });

  test('SIGINT while plaintext is being written removes the temporary file', async () => {
    const child = spawn(process.execPath, ['bin/trent.js', 'decrypt', '-k', keyA, '-o', out()], { env: cliEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The CLI is killed while our write may still be flushing into its stdin: the pipe then breaks (EPIPE),
    // which is expected here and must not fail the test as an unhandled error.
    child.stdin.on('error', () => {});
    // Half the message, stdin left open: the CLI decrypts what it has and waits for the rest.
    child.stdin.write(message.subarray(0, message.length >> 1));
    const temp = () => readdirSync(dir).find((f) => f.endsWith('.trent-tmp'));
    for (let i = 0; i < 600; i++) {
      const t = temp();
      if (t && readFileSync(join(dir, t)).length > 0) break; // plaintext is on disk, in the temporary file
      await new Promise((r) => setTimeout(r, 50));
    }
    const t = temp();
    assert.ok(t && readFileSync(join(dir, t)).length > 0, 'the CLI wrote plaintext to a temporary file beside the output');
    child.kill('SIGINT');
    assert.equal(await closed, 130);
    child.stdin.destroy();
    assert.deepEqual(leftovers(keep), []);
  });
});
