/**
 * Sealing end to end (docs/seal.md), on the real server with the official KMS client: quorum init and
 * unseal across a restart, forged shares, stale nonces, seal, root-key rotation (also across nodes
 * sharing one database), rekey, and the `trent operator` command through bin/trent.js.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, ListKeysCommand, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { runCli, type CliContext } from '../../src/cli/main.ts';
import { decryptWithAgeIdentity } from '../../src/crypto/age.ts';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { ACCOUNT_ID, awsError, rawCall, REGION, startServer, type TestServer } from './harness.ts';

const SHAMIR = { TRENT_SEAL: 'shamir' };
const scope = { accountId: ACCOUNT_ID, region: REGION };

async function sys(url: string, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, url), { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const unseal = (s: TestServer, share: string, nonce?: string) => sys(s.url, 'POST', '/v1/sys/unseal', { Share: share, ...(nonce ? { Nonce: nonce } : {}) });
const health = async (s: TestServer) => (await sys(s.url, 'GET', '/health')).json;
const operator = (s: TestServer, op: string) => rawCall(s.url, `TrentOperator.${op}`, '{}', { service: 'trent' });

async function unsealWith(s: TestServer, shares: string[]): Promise<void> {
  for (const share of shares) assert.equal((await unseal(s, share)).status, 200);
  assert.equal((await health(s)).status, 'ok');
}

/** A KMS call on a sealed or uninitialized node: 503 in AWS shape, saying why. */
async function assertRefused(s: TestServer, why: RegExp): Promise<void> {
  const err = await awsError(() => s.kms().send(new ListKeysCommand({})));
  assert.equal(err.status, 503);
  assert.equal(err.name, 'ServiceUnavailableException');
  assert.match(err.message, why);
  const raw = await rawCall(s.url, 'TrentService.Encrypt', JSON.stringify({ KeyId: 'alias/x', Plaintext: 'aGk=' }));
  assert.equal(raw.status, 503);
  assert.equal(raw.json.__type, 'ServiceUnavailableException');
}

/** The root-key version a sealed material row was sealed under (the barrier header). */
async function rootVersionOf(s: TestServer, keyId: string, version = 1): Promise<number> {
  const m = await s.app.storage.read((r) => r.materials.get(scope, keyId, version));
  return Buffer.from(m!.sealed).readUInt32BE(1);
}

describe('quorum sealing (TRENT_SEAL=shamir)', () => {
  test('init 5/3, sealed start refuses calls, two shares keep it sealed, the third unseals, ciphertexts from before a restart decrypt', async () => {
    let s = await startServer({ env: SHAMIR });
    try {
      assert.deepEqual({ status: (await health(s)).status, sealed: (await health(s)).sealed }, { status: 'uninitialized', sealed: true });
      await assertRefused(s, /not initialized/);
      assert.equal((await unseal(s, 'AAAA')).json.__type, 'ServiceUnavailableException');

      const init = await sys(s.url, 'POST', '/v1/sys/init', { Shares: 5, Threshold: 3 });
      assert.equal(init.status, 200);
      const shares = init.json.Shares as string[];
      assert.equal(shares.length, 5);
      assert.equal(new Set(shares).size, 5);
      // Init happens exactly once.
      const again = await sys(s.url, 'POST', '/v1/sys/init', { Shares: 5, Threshold: 3 });
      assert.deepEqual([again.status, again.json.__type], [400, 'InvalidSealStateException']);

      assert.equal((await health(s)).status, 'sealed');
      await assertRefused(s, /sealed/);
      const first = await unseal(s, shares[0]!);
      assert.equal(first.json.Progress, 1);
      assert.equal(first.json.Threshold, 3);
      assert.match(String(first.json.Nonce), /^[0-9a-f]{32}$/);
      const second = await unseal(s, shares[1]!, String(first.json.Nonce));
      assert.deepEqual([second.json.Progress, second.json.Sealed, second.json.Nonce], [2, true, first.json.Nonce]);
      await assertRefused(s, /sealed/);
      const third = await unseal(s, shares[2]!);
      assert.deepEqual([third.json.Sealed, third.json.Progress, third.json.RootKeyVersion], [false, 0, 1]);

      const kms = s.kms();
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      const keyId = KeyMetadata!.KeyId!;
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before the restart') }));

      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR });
      assert.equal((await health(s)).status, 'sealed');
      await assertRefused(s, /sealed/);
      await unsealWith(s, [shares[4]!, shares[1]!, shares[3]!]); // any three
      const out = await s.kms().send(new DecryptCommand({ CiphertextBlob }));
      assert.equal(Buffer.from(out.Plaintext!).toString(), 'before the restart');
      assert.equal(out.KeyId, KeyMetadata!.Arn);
    } finally {
      await s.stop(true);
    }
  });

  test('a forged share is refused before it touches the attempt, without naming a share; a stale nonce is refused', async () => {
    const s = await startServer({ env: SHAMIR });
    try {
      const shares = (await sys(s.url, 'POST', '/v1/sys/init', { Shares: 5, Threshold: 3 })).json.Shares as string[];
      const forged = Buffer.from(shares[2]!, 'base64');
      forged[5]! ^= 0x40; // same x coordinate, one wrong byte: would combine, but to the wrong key
      const a = await unseal(s, shares[0]!);
      const nonce = String(a.json.Nonce);
      await unseal(s, shares[1]!, nonce);
      const refused = await unseal(s, forged.toString('base64'), nonce);
      assert.equal(refused.status, 400);
      assert.equal(refused.json.__type, 'InvalidShareException');
      assert.doesNotMatch(String(refused.json.message), /share (1|2|3)\b/);
      const after = (await sys(s.url, 'GET', '/v1/sys/seal-status')).json;
      assert.deepEqual([after.Sealed, after.Progress, after.Nonce], [true, 2, nonce]);
      await assertRefused(s, /sealed/);

      // A current share resets the attempt; its nonce is then stale: refused, and nothing counted.
      assert.equal((await sys(s.url, 'POST', '/v1/sys/unseal', { Share: shares[4], Reset: true })).json.Progress, 0);
      const stale = await unseal(s, shares[0]!, nonce);
      assert.deepEqual([stale.status, stale.json.__type], [400, 'InvalidNonceException']);
      const b = await unseal(s, shares[0]!);
      assert.notEqual(b.json.Nonce, nonce);
      assert.deepEqual([(await unseal(s, shares[0]!)).json.Progress], [1]); // a repeated share counts once
      const stale2 = await unseal(s, shares[1]!, nonce);
      assert.equal(stale2.json.__type, 'InvalidNonceException');
      // Malformed shares are refused without touching the attempt.
      assert.equal((await unseal(s, 'not a share')).json.__type, 'ValidationException');
      await unsealWith(s, [shares[3]!, shares[4]!]);
      assert.equal(((await s.kms().send(new ListKeysCommand({}))).Keys ?? []).length >= 0, true);
    } finally {
      await s.stop(true);
    }
  });

  test('seal (authorized, audited) zeroizes the keyring and refuses calls again; unseal brings everything back', async () => {
    const s = await startServer({ env: SHAMIR });
    try {
      const shares = (await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 })).json.Shares as string[];
      await unsealWith(s, shares.slice(0, 2));
      const kms = s.kms();
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));

      // A principal without trent:Seal is refused.
      const created = await rawCall(s.url, 'TrentAdmin.CreateUser', JSON.stringify({ UserName: 'ops' }), { service: 'trent' });
      assert.equal(created.status, 200);
      const key = (await rawCall(s.url, 'TrentAdmin.CreateAccessKey', JSON.stringify({ UserName: 'ops' }), { service: 'trent' })).json.AccessKey as { AccessKeyId: string; SecretAccessKey: string };
      const ops = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
      const denied = await rawCall(s.url, 'TrentOperator.Seal', '{}', { service: 'trent', credentials: ops });
      assert.deepEqual([denied.status, denied.json.__type], [400, 'AccessDeniedException']);
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'trent:Seal', Resource: '*' }] });
      assert.equal((await rawCall(s.url, 'TrentAdmin.PutUserPolicy', JSON.stringify({ UserName: 'ops', PolicyName: 'seal', PolicyDocument: policy }), { service: 'trent' })).status, 200);

      const barrier = s.app.seal.barrier!;
      assert.equal(barrier.isUnsealed, true);
      const sealed = await rawCall(s.url, 'TrentOperator.Seal', '{}', { service: 'trent', credentials: ops });
      assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
      assert.equal(barrier.isUnsealed, false);
      assert.throws(() => barrier.seal(Buffer.from('x'), Buffer.alloc(0)), /sealed/);
      assert.equal((await health(s)).status, 'sealed');
      await assertRefused(s, /sealed/);
      assert.equal((await operator(s, 'Seal')).status, 503); // nothing authenticates while sealed

      await unsealWith(s, [shares[2]!, shares[0]!]);
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'x');
      // The seal went through the audit choke point like any call.
      const events = (await s.app.storage.read((r) => r.audit.scan(0, 100_000))).map((r) => JSON.parse(r.record) as Record<string, unknown>);
      const seal = events.filter((e) => e.eventName === 'Seal');
      assert.equal(seal.length, 2);
      assert.deepEqual(seal.map((e) => e.errorCode ?? 'ok'), ['AccessDeniedException', 'ok']);
    } finally {
      await s.stop(true);
    }
  });

  test('root rotation keeps every ciphertext decryptable, new material is sealed under the new version, across a restart', async () => {
    let s = await startServer({ env: SHAMIR });
    try {
      const shares = (await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 })).json.Shares as string[];
      await unsealWith(s, shares.slice(0, 2));
      const kms = s.kms();
      const k1 = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const c1 = (await kms.send(new EncryptCommand({ KeyId: k1, Plaintext: Buffer.from('one') }))).CiphertextBlob!;
      assert.equal(await rootVersionOf(s, k1), 1);

      const rotated = await operator(s, 'RotateRootKey');
      assert.equal(rotated.status, 200);
      assert.deepEqual([rotated.json.RootKeyVersion, rotated.json.RootKeyVersions], [2, [1, 2]]);
      const k2 = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      assert.equal(await rootVersionOf(s, k2), 2);
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: k1 }));
      assert.equal(await rootVersionOf(s, k1, 2), 2);
      const c2 = (await kms.send(new EncryptCommand({ KeyId: k1, Plaintext: Buffer.from('two') }))).CiphertextBlob!;
      const c3 = (await kms.send(new EncryptCommand({ KeyId: k2, Plaintext: Buffer.from('three') }))).CiphertextBlob!;
      assert.equal((await operator(s, 'RotateRootKey')).json.RootKeyVersion, 3);

      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR });
      await unsealWith(s, [shares[1]!, shares[2]!]);
      assert.equal((await sys(s.url, 'GET', '/v1/sys/seal-status')).json.RootKeyVersion, 3);
      const k = s.kms();
      for (const [blob, text] of [[c1, 'one'], [c2, 'two'], [c3, 'three']] as const) {
        assert.equal(Buffer.from((await k.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), text);
      }
    } finally {
      await s.stop(true);
    }
  });

  test('rekey: M current shares issue new shares under a new N/M; old shares no longer unseal', async () => {
    let s = await startServer({ env: SHAMIR });
    try {
      const old = (await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 })).json.Shares as string[];
      await unsealWith(s, old.slice(0, 2));
      const keyId = (await s.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const blob = (await s.kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('kept') }))).CiphertextBlob!;
      // Starting a rekey needs proof: here a current share, which counts as the first one.
      const started = await sys(s.url, 'POST', '/v1/sys/rekey/init', { Shares: 4, Threshold: 3, Share: old[1] });
      const nonce = String(started.json.Nonce);
      assert.deepEqual([started.json.Required, started.json.Progress], [2, 1]);
      assert.equal((await sys(s.url, 'POST', '/v1/sys/rekey/update', { Share: old[0], Nonce: 'stale' })).json.__type, 'InvalidNonceException');
      const done = await sys(s.url, 'POST', '/v1/sys/rekey/update', { Share: old[2], Nonce: nonce });
      assert.equal(done.json.Complete, true);
      const fresh = done.json.Shares as string[];
      assert.equal(fresh.length, 4);

      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR });
      const status = (await sys(s.url, 'GET', '/v1/sys/seal-status')).json;
      assert.deepEqual([status.Threshold, status.Shares], [3, 4]);
      for (const share of old) assert.equal((await unseal(s, share)).json.__type, 'InvalidShareException');
      assert.equal((await sys(s.url, 'GET', '/v1/sys/seal-status')).json.Progress, 0);
      await unsealWith(s, [fresh[3]!, fresh[0]!, fresh[2]!]);
      assert.equal(Buffer.from((await s.kms().send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'kept');
    } finally {
      await s.stop(true);
    }
  });

  test('a completed rekey whose audit event cannot be written still answers its new shares, which unseal after a restart; recovery records the call', async () => {
    let faults!: FaultInjectingStorage;
    let s = await startServer({ env: SHAMIR, wrapStorage: (st) => (faults = new FaultInjectingStorage(st)) });
    try {
      const old = (await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 })).json.Shares as string[];
      await unsealWith(s, old.slice(0, 2));
      const started = await sys(s.url, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2, Share: old[1] });
      // The event of the call that completes the rekey cannot be written (after the new keyring is stored):
      // the group commit's write, one statement on PostgreSQL (AuditRepo.appendBatch), an INSERT on SQLite.
      const write = (await s.app.storage.read(async (r) => typeof r.audit.appendBatch === 'function')) ? 'audit.appendBatch' : 'audit.append';
      faults.failNext(write);
      const done = await sys(s.url, 'POST', '/v1/sys/rekey/update', { Share: old[2], Nonce: String(started.json.Nonce) });
      assert.equal(faults.pendingFaults(write), 0, 'the fault was reached');
      // The rekey took effect: the answer says so and carries the only copy of the new shares.
      assert.equal(done.status, 200, JSON.stringify(done.json));
      const fresh = done.json.Shares as string[];
      assert.equal(fresh.length, 3);

      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR });
      assert.equal((await unseal(s, old[0]!)).json.__type, 'InvalidShareException');
      await unsealWith(s, fresh.slice(0, 2));
      // Its write-ahead intent was durable before the rekey ran: recovery at start-up made it an event.
      const events = (await s.app.storage.read((r) => r.audit.scan(0, 10_000))).filter((e) => e.eventName === 'SysRekeyUpdate');
      assert.deepEqual(events.map((e) => e.errorCode), ['TrentAuditOutcomeUnknown']);
    } finally {
      await s.stop(true);
    }
  });

  test('shares encrypted to operators\' age keys: only each operator can read theirs; a bad recipient stores nothing', async () => {
    const s = await startServer({ env: SHAMIR });
    const dir = mkdtempSync(join(tmpdir(), 'trent-age-'));
    try {
      const identities = await Promise.all([0, 1, 2].map(() => generateIdentity()));
      const recipients = await Promise.all(identities.map((i) => identityToRecipient(i)));
      const short = await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2, AgeRecipients: recipients.slice(0, 2) });
      assert.deepEqual([short.status, short.json.__type], [400, 'ValidationException']);
      const bad = await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2, AgeRecipients: [...recipients.slice(0, 2), 'age1nope'] });
      assert.deepEqual([bad.status, bad.json.__type], [400, 'ValidationException']);
      assert.equal((await health(s)).status, 'uninitialized');

      const init = await sys(s.url, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2, AgeRecipients: recipients });
      const files = init.json.Shares as string[];
      for (const f of files) assert.match(f, /^-----BEGIN AGE ENCRYPTED FILE-----/);
      await assert.rejects(decryptWithAgeIdentity(identities[1]!, files[0]!));
      const share0 = (await decryptWithAgeIdentity(identities[0]!, files[0]!)).toString();
      assert.equal((await unseal(s, share0)).json.Progress, 1);
      // The second operator uses the CLI with their identity file and the encrypted share as received.
      writeFileSync(join(dir, 'share2.age'), files[2]!);
      writeFileSync(join(dir, 'key2.txt'), `# created: by age-keygen\n${identities[2]}\n`);
      const out: string[] = [];
      const ctx = { env: { TRENT_ENDPOINT: s.url }, stdout: { write: (x: string) => out.push(x) }, stderr: { write: (x: string) => out.push(x) } } as unknown as CliContext;
      assert.equal(await runCli(['operator', 'unseal', join(dir, 'share2.age'), '--age-identity', join(dir, 'key2.txt')], ctx), 0, out.join(''));
      assert.equal((JSON.parse(out.join('')) as Record<string, unknown>).Sealed, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await s.stop(true);
    }
  });

  test('trent operator init / status / unseal / rotate-root / seal through bin/trent.js', async () => {
    const s = await startServer({ env: SHAMIR });
    const run = promisify(execFile);
    const env = { ...process.env, TRENT_ENDPOINT: s.url, AWS_ACCESS_KEY_ID: 'AKIATRENTTESTADMIN01', AWS_SECRET_ACCESS_KEY: 'trent-test-secret-access-key-0123456789' };
    const trent = (...args: string[]) => run(process.execPath, ['bin/trent.js', 'operator', ...args], { env });
    try {
      const init = await trent('init', '--shares', '4', '--threshold', '2');
      const shares = [...init.stdout.matchAll(/^Unseal key share \d: (\S+)$/gm)].map((m) => m[1]!);
      assert.equal(shares.length, 4, init.stdout);
      assert.match(init.stdout, /Any 2 of these 4 shares unseal Trent/);
      const first = JSON.parse((await trent('unseal', shares[3]!)).stdout) as Record<string, unknown>;
      assert.deepEqual([first.Sealed, first.Progress], [true, 1]);
      const status = JSON.parse((await trent('status')).stdout) as Record<string, unknown>;
      assert.equal(status.Nonce, first.Nonce);
      await assert.rejects(trent('unseal', shares[0]!, '--nonce', 'f'.repeat(32)), /InvalidNonceException/);
      const second = JSON.parse((await trent('unseal', shares[1]!, '--nonce', String(first.Nonce))).stdout) as Record<string, unknown>;
      assert.equal(second.Sealed, false);
      assert.equal((JSON.parse((await trent('rotate-root')).stdout) as Record<string, unknown>).RootKeyVersion, 2);
      assert.equal((JSON.parse((await trent('seal')).stdout) as Record<string, unknown>).Sealed, true);
      await assertRefused(s, /sealed/);
    } finally {
      await s.stop(true);
    }
  });
});

describe('development mode (TRENT_SEAL=dev, the default)', () => {
  test('root rotation: data sealed under the dev root key keeps opening, new material uses version 2, across a restart', async () => {
    let s = await startServer();
    try {
      assert.deepEqual([(await health(s)).status, (await health(s)).seal], ['ok', 'dev']);
      const kms = s.kms();
      const k1 = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const c1 = (await kms.send(new EncryptCommand({ KeyId: k1, Plaintext: Buffer.from('old') }))).CiphertextBlob!;
      assert.equal((await operator(s, 'RotateRootKey')).json.RootKeyVersion, 2);
      const k2 = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      assert.equal(await rootVersionOf(s, k2), 2);
      const c2 = (await kms.send(new EncryptCommand({ KeyId: k2, Plaintext: Buffer.from('new') }))).CiphertextBlob!;
      await s.stop();
      s = await startServer({ dataDir: s.dataDir });
      assert.equal(Buffer.from((await s.kms().send(new DecryptCommand({ CiphertextBlob: c1 }))).Plaintext!).toString(), 'old');
      assert.equal(Buffer.from((await s.kms().send(new DecryptCommand({ CiphertextBlob: c2 }))).Plaintext!).toString(), 'new');
      // Quorum commands have nothing to do in development mode.
      assert.equal((await sys(s.url, 'POST', '/v1/sys/init', {})).json.__type, 'InvalidSealStateException');
    } finally {
      await s.stop(true);
    }
  });

  test('two nodes on one database: a root-key version added on one is picked up by the other on first use', async () => {
    const a = await startServer();
    const b = await startServer({ dataDir: a.dataDir });
    try {
      const k0 = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      assert.equal((await operator(a, 'RotateRootKey')).json.RootKeyVersion, 2);
      // Node b still holds only version 1; a key created through a is sealed under version 2.
      const k1 = (await a.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      assert.equal(await rootVersionOf(a, k1), 2);
      const blob = (await b.kms().send(new EncryptCommand({ KeyId: k1, Plaintext: Buffer.from('across') }))).CiphertextBlob!;
      assert.equal(Buffer.from((await a.kms().send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'across');
      // And b seals under version 2 from now on.
      await b.kms().send(new RotateKeyOnDemandCommand({ KeyId: k0 }));
      assert.equal(await rootVersionOf(b, k0, 2), 2);
    } finally {
      await b.stop();
      await a.stop(true);
    }
  });
});
