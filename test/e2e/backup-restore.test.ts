/**
 * Backup and restore through the real server and the real `trent` command (docs/backup.md): a backup
 * taken while 16 clients Encrypt, CreateKey and PutSecretValue restores onto an empty data dir (or a new
 * PostgreSQL database, with TRENT_E2E_STORAGE=postgres) with every write acknowledged before the backup
 * began, every ciphertext made before it decrypting, keys, aliases, grants, key policies, users,
 * secrets and parameters working, and the audit chain verifying across the restore. A tampered,
 * truncated or foreign backup is refused and restores nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand,
  GetKeyPolicyCommand, PutKeyPolicyCommand, type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Client, escapeIdentifier } from 'pg';
import { runCli } from '../../src/cli/main.ts';
import { postgresTestBaseUrl } from '../../src/storage/postgres/test-database.ts';
import { ACCOUNT_ID, ADMIN, E2E_STORAGE, REGION, startServer, type TestServer } from './harness.ts';
import { allow, principals, type Credentials } from './principals.ts';

const ROOT_KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_ROOT_KEY = Buffer.alloc(32, 9).toString('base64');
const CONCURRENCY = 16;

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write(c: Buffer, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function cli(argv: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { env, stdout: out.stream, stderr: err.stream });
  return { code, out: out.text(), err: err.text() };
}

// A restore target: a new SQLite data dir, or (on PostgreSQL) a new database made for this test.
const databases: string[] = [];
async function pg<T>(body: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: postgresTestBaseUrl() });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}
async function freshTarget(): Promise<{ dataDir: string; env: Record<string, string> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trent-restore-'));
  if (E2E_STORAGE !== 'postgres') return { dataDir, env: {} };
  const name = `trent_restore_${process.pid}_${databases.length}_${Date.now().toString(36)}`;
  await pg((c) => c.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  databases.push(name);
  const u = new URL(postgresTestBaseUrl());
  u.pathname = `/${name}`;
  return { dataDir, env: { TRENT_STORAGE: u.toString() } };
}
async function targetIsEmpty(t: { dataDir: string; env: Record<string, string> }): Promise<boolean> {
  // SQLite: no file at all, not even the temporary copy a restore writes beside trent.db before renaming it.
  if (E2E_STORAGE !== 'postgres') return readdirSync(t.dataDir).length === 0;
  const c = new Client({ connectionString: t.env.TRENT_STORAGE });
  await c.connect();
  try {
    const tables = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'");
    for (const row of tables.rows as { tablename: string }[]) {
      if ((await c.query(`SELECT 1 FROM ${escapeIdentifier(row.tablename)} LIMIT 1`)).rowCount) return false;
    }
    return true;
  } finally {
    await c.end();
  }
}
after(async () => {
  if (databases.length === 0) return;
  await pg(async (c) => {
    for (const d of databases) await c.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(d)} WITH (FORCE)`);
  });
});

describe(`backup and restore (${E2E_STORAGE})`, () => {
  let source: TestServer;
  let backupFile: string;
  const clientEnv = (s: TestServer) => ({ TRENT_ENDPOINT: s.url, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey });

  // What existed before the backup began, to be checked after the restore.
  const before_ = {
    ciphertexts: [] as { blob: Uint8Array; plain: string }[],
    keys: [] as string[],
    secretVersions: [] as { id: string; versionId: string; value: string }[],
  };
  let setup: {
    keyId: string; alias: string; grantee: Credentials; policyMarker: string; secret: string; parameter: string; auditEventsBefore: number;
  };

  before(async () => {
    source = await startServer({ env: { TRENT_ROOT_KEY: ROOT_KEY } });
    backupFile = join(mkdtempSync(join(tmpdir(), 'trent-backup-')), 'trent.backup');
  });
  after(async () => {
    await source.stop(true);
  });

  test('a backup taken under load (Encrypt, CreateKey, PutSecretValue at c = 16) holds every write acknowledged before it began', async () => {
    const kms = source.kms();
    const sm = new SecretsManagerClient({ endpoint: source.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    const ssm = new SSMClient({ endpoint: source.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    const p = principals(source);

    // Resources of every kind, made before the load.
    const keyId = (await kms.send(new CreateKeyCommand({ Description: 'before the backup' }))).KeyMetadata!.KeyId!;
    const alias = 'alias/backed-up';
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    const grantee = await p.newUser('grantee');
    const granteeArn = `arn:aws:iam::${ACCOUNT_ID}:user/grantee`;
    await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: granteeArn, Operations: ['Encrypt', 'Decrypt'] }));
    const policyMarker = 'RestoredPolicyStatement';
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: policyMarker, Effect: 'Deny', Principal: { AWS: granteeArn }, Action: 'kms:DescribeKey', Resource: '*' },
      ],
    };
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(policy) }));
    const secret = 'backed-up/secret';
    await sm.send(new CreateSecretCommand({ Name: secret, SecretString: 'secret value before the backup' }));
    const parameter = '/backed-up/parameter';
    await ssm.send(new PutParameterCommand({ Name: parameter, Type: 'SecureString', Value: 'parameter value before the backup' }));
    const auditEventsBefore = (await source.app.storage.read((r) => r.audit.scan(0, 1_000_000))).length;
    setup = { keyId, alias, grantee, policyMarker, secret, parameter, auditEventsBefore };

    // The load: each acknowledgement is stamped with whether the backup had started when it arrived.
    let backupStarted = false;
    let stop = false;
    let done = 0;
    const failures: unknown[] = [];
    const worker = async (w: number) => {
      let secretName = '';
      for (let n = 0; !stop; n++) {
        try {
          const kind = (w + n) % 3;
          if (kind === 0) {
            const plain = `w${w}-n${n}-${'x'.repeat(w)}`;
            const out = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plain) }));
            if (!backupStarted) before_.ciphertexts.push({ blob: out.CiphertextBlob!, plain });
          } else if (kind === 1) {
            const out = await kms.send(new CreateKeyCommand({ Description: `load ${w}/${n}` }));
            if (!backupStarted) before_.keys.push(out.KeyMetadata!.KeyId!);
          } else {
            // At most 100 versions per secret (AWS's limit): a new secret every 30 puts.
            if (n % 90 === 2 || !secretName) {
              secretName = `load/${w}/${n}`;
              await sm.send(new CreateSecretCommand({ Name: secretName }));
            }
            const value = `value ${w}/${n}`;
            const out = await sm.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: value }));
            if (!backupStarted) before_.secretVersions.push({ id: secretName, versionId: out.VersionId!, value });
          }
          done++;
        } catch (err) {
          failures.push(err);
          return;
        }
      }
    };
    const workers = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
    while (done < 100 && failures.length === 0) await new Promise((r) => setTimeout(r, 10));
    backupStarted = true;
    const ackedBefore = done;
    const result = await cli(['backup', '--out', backupFile], clientEnv(source));
    const doneDuringBackup = done - ackedBefore;
    // Keep the load on a little after the backup, so writes it cannot hold exist too.
    const target = done + 50;
    while (done < target && failures.length === 0) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /backup written to/);
    assert.ok(doneDuringBackup > 0, 'the load went on while the backup ran');
    assert.ok(before_.ciphertexts.length > 0 && before_.keys.length > 0 && before_.secretVersions.length > 0);
    // Nothing of the store in the clear: the file holds no plaintext written before it.
    const bytes = readFileSync(backupFile);
    assert.equal(bytes.includes(Buffer.from('secret value before the backup')), false);
    assert.equal(bytes.includes(Buffer.from(keyId)), false, 'key ids are inside the encrypted part');
  });

  test('a principal not allowed trent:Backup is refused (AccessDeniedException) and gets no backup', async () => {
    const user = await principals(source).newUser('no-backup', allow('kms:*'));
    const r = await cli(['backup', '--out', `${backupFile}.denied`], { ...clientEnv(source), AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey });
    assert.equal(r.code, 1);
    assert.match(r.err, /AccessDeniedException/);
    assert.equal(existsSync(`${backupFile}.denied`), false);
  });

  test('tampered, truncated, foreign or wrongly keyed backups are refused with a clear error and restore nothing', async () => {
    const good = readFileSync(backupFile);
    const dir = mkdtempSync(join(tmpdir(), 'trent-bad-backup-'));
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length * 0.6)]! ^= 0x01;
    // Same length, still valid JSON: only the authentication can tell.
    const headerEdited = Buffer.from(good.toString('latin1').replace('"createdAt":"2', '"createdAt":"1'), 'latin1');
    assert.notDeepEqual(headerEdited, good);
    const cases: { name: string; bytes: Buffer; env?: Record<string, string>; message: RegExp }[] = [
      { name: 'one bit flipped in the body', bytes: flipped, message: /failed authentication/ },
      { name: 'cut in the middle of a chunk', bytes: good.subarray(0, good.length - 100), message: /truncated/ },
      { name: 'the last chunk missing', bytes: good.subarray(0, lastChunkStart(good)), message: /truncated/ },
      { name: 'bytes appended', bytes: Buffer.concat([good, Buffer.from([0, 0, 0, 0])]), message: /failed authentication|truncated/ },
      { name: 'the header edited', bytes: headerEdited, message: /failed authentication/ },
      { name: 'not a backup', bytes: Buffer.from('hello'), message: /not a Trent backup/ },
      { name: 'another deployment\'s root key', bytes: good, env: { TRENT_ROOT_KEY: OTHER_ROOT_KEY }, message: /failed authentication/ },
    ];
    for (const c of cases) {
      const file = join(dir, `${cases.indexOf(c)}.backup`);
      writeFileSync(file, c.bytes);
      const t = await freshTarget();
      const r = await cli(['restore', file], { TRENT_DATA_DIR: t.dataDir, TRENT_ROOT_KEY: ROOT_KEY, ...t.env, ...c.env });
      assert.equal(r.code, 1, `${c.name}: refused`);
      assert.match(r.err, /nothing was restored/, c.name);
      assert.match(r.err, c.message, c.name);
      assert.ok(await targetIsEmpty(t), `${c.name}: nothing restored`);
    }
  });

  test('restored onto an empty store, the deployment unseals with the same root key and every key, ciphertext, grant, policy, user, secret and parameter works; the audit chain verifies across the restore', async () => {
    await source.stop();
    const t = await freshTarget();
    // Without the root key that sealed it, the restore is refused before anything is written.
    const noKey = await cli(['restore', backupFile], { TRENT_DATA_DIR: t.dataDir, ...t.env });
    assert.equal(noKey.code, 1);
    assert.match(noKey.err, /root key that sealed it/);
    const r = await cli(['restore', backupFile], { TRENT_DATA_DIR: t.dataDir, TRENT_ROOT_KEY: ROOT_KEY, ...t.env });
    assert.equal(r.code, 0, r.err);
    // A second restore onto the now non-empty store is refused.
    const again = await cli(['restore', backupFile], { TRENT_DATA_DIR: t.dataDir, TRENT_ROOT_KEY: ROOT_KEY, ...t.env });
    assert.equal(again.code, 1);
    assert.match(again.err, /already exists|not empty/);

    const restored = await startServer({ dataDir: t.dataDir, env: { TRENT_ROOT_KEY: ROOT_KEY, ...t.env } });
    try {
      const kms: KMSClient = restored.kms();
      for (const c of before_.ciphertexts) {
        const out = await kms.send(new DecryptCommand({ CiphertextBlob: c.blob }));
        assert.equal(Buffer.from(out.Plaintext!).toString(), c.plain);
      }
      for (const k of before_.keys) assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!.KeyState, 'Enabled');
      const sm = new SecretsManagerClient({ endpoint: restored.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
      for (const v of before_.secretVersions) {
        assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: v.id, VersionId: v.versionId }))).SecretString, v.value);
      }
      assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: setup.secret }))).SecretString, 'secret value before the backup');
      const ssm = new SSMClient({ endpoint: restored.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
      assert.equal((await ssm.send(new GetParameterCommand({ Name: setup.parameter, WithDecryption: true }))).Parameter!.Value, 'parameter value before the backup');
      // The alias, the grant (the grantee's access key was restored too) and the key policy.
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: setup.alias }))).KeyMetadata!.KeyId, setup.keyId);
      const asGrantee = restored.kms({ credentials: setup.grantee });
      const blob = (await asGrantee.send(new EncryptCommand({ KeyId: setup.keyId, Plaintext: Buffer.from('via the grant') }))).CiphertextBlob!;
      assert.equal(Buffer.from((await asGrantee.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'via the grant');
      await assert.rejects(asGrantee.send(new DescribeKeyCommand({ KeyId: setup.keyId })), { name: 'AccessDeniedException' });
      assert.match((await kms.send(new GetKeyPolicyCommand({ KeyId: setup.keyId }))).Policy!, new RegExp(setup.policyMarker));
      // Writes go on: the chain continues from the restored head.
      await kms.send(new CreateKeyCommand({ Description: 'after the restore' }));
      const events = (await restored.app.storage.read((s) => s.audit.scan(0, 1_000_000))).length;
      assert.ok(events > setup.auditEventsBefore, 'the restored chain holds the events before the backup and continues');
    } finally {
      await restored.stop();
    }
    const verify = await cli(['audit', 'verify'], { TRENT_DATA_DIR: t.dataDir, ...t.env });
    assert.equal(verify.code, 0, verify.out + verify.err);
    assert.match(verify.out, /audit chain OK/);
  });
});

/** Offset of the last chunk's length prefix (walks the chunk framing of src/backup/backup-file.ts). */
function lastChunkStart(file: Buffer): number {
  const magic = 'TRENT-BACKUP\n'.length;
  let at = magic + 4 + file.readUInt32BE(magic);
  let last = at;
  while (at < file.length) {
    last = at;
    at += 4 + file.readUInt32BE(at);
  }
  return last;
}

describe(`backup and restore of a quorum-sealed deployment (${E2E_STORAGE})`, () => {
  test('restore needs the shares that sealed it; the restored deployment starts sealed and unseals with the same shares, and its keys and ciphertexts work', async () => {
    const post = async (url: string, path: string, body: unknown) => {
      const res = await fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 200, JSON.stringify(json));
      return json;
    };
    const unseal = async (url: string, shares: string[]) => {
      const first = await post(url, '/v1/sys/unseal', { Share: shares[0] });
      return post(url, '/v1/sys/unseal', { Share: shares[1], Nonce: first.Nonce });
    };
    const src = await startServer({ env: { TRENT_SEAL: 'shamir' } });
    let shares: string[];
    let keyId: string;
    let blob: Uint8Array;
    const file = join(mkdtempSync(join(tmpdir(), 'trent-backup-')), 'quorum.backup');
    try {
      shares = (await post(src.url, '/v1/sys/init', { Shares: 3, Threshold: 2 })).Shares as string[];
      assert.equal((await unseal(src.url, shares)).Sealed, false);
      const kms = src.kms();
      keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('quorum') }))).CiphertextBlob!;
      const r = await cli(['backup', '--out', file], { TRENT_ENDPOINT: src.url, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey });
      assert.equal(r.code, 0, r.err);
    } finally {
      await src.stop(true);
    }

    const t = await freshTarget();
    const env = { TRENT_DATA_DIR: t.dataDir, TRENT_SEAL: 'shamir', ...t.env };
    const none = await cli(['restore', file], env);
    assert.equal(none.code, 1);
    assert.match(none.err, /--share/);
    const tooFew = await cli(['restore', file, '--share', shares[0]!], env);
    assert.equal(tooFew.code, 1);
    assert.match(tooFew.err, /needs 2 key shares/);
    // Shares of another deployment do not open this backup's keyring.
    const other = await startServer({ env: { TRENT_SEAL: 'shamir' } });
    const foreign = (await post(other.url, '/v1/sys/init', { Shares: 3, Threshold: 2 })).Shares as string[];
    await other.stop(true);
    const wrong = await cli(['restore', file, '--share', foreign[0]!, '--share', foreign[1]!], env);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /does not open the keyring of this backup/);
    assert.ok(await targetIsEmpty(t));

    const ok = await cli(['restore', file, '--share', shares[1]!, '--share', shares[2]!], env);
    assert.equal(ok.code, 0, ok.err);
    const restored = await startServer({ dataDir: t.dataDir, env: { TRENT_SEAL: 'shamir', ...t.env } });
    try {
      const sealed = await fetch(new URL('/v1/sys/seal-status', restored.url)).then((r) => r.json() as Promise<Record<string, unknown>>);
      assert.equal(sealed.Initialized, true);
      assert.equal(sealed.Sealed, true);
      assert.equal((await unseal(restored.url, [shares[2]!, shares[0]!])).Sealed, false);
      const kms = restored.kms();
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'quorum');
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState, 'Enabled');
    } finally {
      await restored.stop();
    }
    const verify = await cli(['audit', 'verify'], { TRENT_DATA_DIR: t.dataDir, ...t.env });
    assert.equal(verify.code, 0, verify.out + verify.err);
  });
});
