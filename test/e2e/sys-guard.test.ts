/**
 * The operator endpoints (/v1/sys/*) hold against someone who can reach them but holds no share and no
 * credentials (docs/seal.md "Operator endpoints"), through the real server with TRENT_SEAL=shamir:
 * - a rekey cannot be started or replaced without a current share or the SigV4 signature of a principal
 *   allowed trent:Rekey; a stranger's signature, a bad signature and a forged share are refused;
 * - an unseal attempt cannot be added to, poisoned or reset without a current share;
 * - unseal and rekey attempts are limited per source address, and a refused attempt changes nothing;
 * - every /v1/sys/* call is in the audit trail, those made while sealed too (written at the unseal), an
 *   init of an initialized deployment included; with the trail unwritable a state change is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { runCli, type CliContext } from '../../src/cli/main.ts';
import { ManualClock } from '../../src/clock.ts';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { SYS_ATTEMPTS_PER_WINDOW, SYS_ATTEMPT_WINDOW_MS } from '../../src/http/operator/sys-routes.ts';
import { ADMIN, rawCall, REGION, startServer, type TestServer } from './harness.ts';
import { principals, type Credentials } from './principals.ts';

const SHAMIR = { TRENT_SEAL: 'shamir' };

type Reply = { status: number; json: Record<string, unknown> };

async function sys(s: TestServer, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>, signAs?: Credentials): Promise<Reply> {
  const url = new URL(path, s.url);
  const payload = body ? JSON.stringify(body) : undefined;
  let headers: Record<string, string> = payload !== undefined ? { 'content-type': 'application/json', host: url.host } : {};
  if (signAs && payload !== undefined) {
    const signer = new SignatureV4({ credentials: signAs, region: REGION, service: 'trent', sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, headers, body: payload });
    headers = signed.headers as Record<string, string>;
  }
  const res = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const status = async (s: TestServer) => (await sys(s, 'GET', '/v1/sys/seal-status')).json;
const junkShare = () => Buffer.alloc(33, 7).toString('base64');

async function initAndUnseal(s: TestServer, shares = 3, threshold = 2): Promise<string[]> {
  const init = await sys(s, 'POST', '/v1/sys/init', { Shares: shares, Threshold: threshold });
  assert.equal(init.status, 200);
  const out = init.json.Shares as string[];
  for (const share of out.slice(0, threshold)) assert.equal((await sys(s, 'POST', '/v1/sys/unseal', { Share: share })).status, 200);
  assert.equal((await status(s)).Sealed, false);
  return out;
}

/** The audit trail's records (CloudTrail JSON), oldest first. */
async function trail(s: TestServer): Promise<Record<string, unknown>[]> {
  const rows = await s.app.storage.read((r) => r.audit.scan(0, 100_000));
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>);
}

describe('operator endpoints: rekey and attempt resets need proof', () => {
  test('a rekey is not started or replaced without a current share or a signature allowed trent:Rekey; the administrator\'s signature starts one', async () => {
    const s = await startServer({ env: SHAMIR });
    try {
      const shares = await initAndUnseal(s);
      const forged = Buffer.from(shares[2]!, 'base64');
      forged[4]! ^= 1;
      const stranger = await principals(s).newUser('stranger');

      const bare = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2 });
      assert.deepEqual([bare.status, bare.json.__type], [400, 'AccessDeniedException']);
      const withForged = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2, Share: forged.toString('base64') });
      assert.deepEqual([withForged.status, withForged.json.__type], [400, 'InvalidShareException']);
      const byStranger = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2 }, stranger);
      assert.deepEqual([byStranger.status, byStranger.json.__type], [400, 'AccessDeniedException']);
      const badSignature = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2 }, { ...ADMIN, secretAccessKey: `${ADMIN.secretAccessKey}x` });
      assert.deepEqual([badSignature.status, badSignature.json.__type], [400, 'InvalidSignatureException']);
      assert.equal((await status(s)).Rekey, undefined, 'no refused request started a rekey');

      // A holder of a current share starts one (the share counts); nobody without proof replaces it.
      const started = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 4, Threshold: 3, Share: shares[0] });
      assert.deepEqual([started.status, started.json.Progress], [200, 1]);
      const running = (await status(s)).Rekey as Record<string, unknown>;
      assert.deepEqual(running, { Nonce: started.json.Nonce, Progress: 1, Required: 2, Shares: 4, Threshold: 3, AgeRecipients: 0 });
      for (const [what, reply] of [
        ['no proof', await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 2, Threshold: 2 })],
        ['a stranger', await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 2, Threshold: 2 }, stranger)],
        ['a forged share', await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 2, Threshold: 2, Share: forged.toString('base64') })],
        ['a forged update', await sys(s, 'POST', '/v1/sys/rekey/update', { Share: forged.toString('base64'), Nonce: started.json.Nonce })],
      ] as const) {
        assert.equal(reply.status, 400, what);
        assert.deepEqual((await status(s)).Rekey, running, `${what} left the running rekey as it was`);
      }

      // The administrator's credentials may replace it; M current shares then complete it.
      const byAdmin = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 2, Threshold: 2 }, ADMIN);
      assert.equal(byAdmin.status, 200);
      assert.notEqual(byAdmin.json.Nonce, started.json.Nonce);
      await sys(s, 'POST', '/v1/sys/rekey/update', { Share: shares[1], Nonce: byAdmin.json.Nonce });
      const done = await sys(s, 'POST', '/v1/sys/rekey/update', { Share: shares[2], Nonce: byAdmin.json.Nonce });
      assert.deepEqual([done.status, done.json.Complete, (done.json.Shares as string[]).length], [200, true, 2]);
    } finally {
      await s.stop(true);
    }
  });

  test('an unseal attempt is not added to, poisoned or reset without a current share', async () => {
    let s = await startServer({ env: SHAMIR });
    try {
      const shares = await initAndUnseal(s, 5, 3);
      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR });
      const first = await sys(s, 'POST', '/v1/sys/unseal', { Share: shares[0] });
      const nonce = first.json.Nonce;
      for (const [what, body] of [
        ['a junk share without nonce', { Share: junkShare() }],
        ['a junk share with the nonce', { Share: junkShare(), Nonce: nonce }],
        ['a reset with a junk share', { Share: junkShare(), Reset: true }],
        ['an old-looking share (one byte off)', { Share: Buffer.from(Buffer.from(shares[1]!, 'base64').map((b, i) => (i === 3 ? b ^ 1 : b))).toString('base64') }],
      ] as const) {
        const r = await sys(s, 'POST', '/v1/sys/unseal', body);
        assert.deepEqual([r.status, r.json.__type], [400, 'InvalidShareException'], what);
        const now = await status(s);
        assert.deepEqual([now.Sealed, now.Progress, now.Nonce], [true, 1, nonce], `${what} changed nothing`);
      }
      const reset = await sys(s, 'POST', '/v1/sys/unseal', { Share: shares[4], Reset: true });
      assert.deepEqual([reset.status, reset.json.Progress, reset.json.Nonce], [200, 0, '']);
      for (const share of shares.slice(1, 4)) assert.equal((await sys(s, 'POST', '/v1/sys/unseal', { Share: share })).status, 200);
      assert.equal((await status(s)).Sealed, false);
    } finally {
      await s.stop(true);
    }
  });
});

describe('trent operator: rekey init proves itself with --share or a signature; unseal --reset', () => {
  test('the command signs rekey init with the environment\'s credentials, or sends --share; without either it is refused', async () => {
    let s = await startServer({ env: SHAMIR });
    try {
      const shares = await initAndUnseal(s);
      const out: string[] = [];
      const ctx = (env: Record<string, string>) => ({ env: { TRENT_ENDPOINT: s.url, ...env }, stdout: { write: (x: string) => out.push(x) }, stderr: { write: (x: string) => out.push(x) } }) as unknown as CliContext;
      const admin = { AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey };
      assert.notEqual(await runCli(['operator', 'rekey', 'init', '--shares', '2', '--threshold', '2'], ctx({})), 0);
      assert.equal((await status(s)).Rekey, undefined);
      assert.equal(await runCli(['operator', 'rekey', 'init', '--shares', '2', '--threshold', '2'], ctx(admin)), 0, out.join(''));
      const signed = (await status(s)).Rekey as Record<string, unknown>;
      assert.deepEqual([signed.Progress, signed.Shares], [0, 2]);
      assert.equal(await runCli(['operator', 'rekey', 'init', '--shares', '3', '--threshold', '2', '--share', shares[0]!], ctx({})), 0, out.join(''));
      const byShare = (await status(s)).Rekey as Record<string, unknown>;
      assert.deepEqual([byShare.Progress, byShare.Shares], [1, 3]);
      assert.notEqual(byShare.Nonce, signed.Nonce);

      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR });
      assert.equal(await runCli(['operator', 'unseal', shares[0]!], ctx({})), 0, out.join(''));
      assert.equal((await status(s)).Progress, 1);
      assert.equal(await runCli(['operator', 'unseal', '--reset', shares[1]!], ctx({})), 0, out.join(''));
      assert.deepEqual([(await status(s)).Progress, (await status(s)).Nonce], [0, '']);
    } finally {
      await s.stop(true);
    }
  });
});

describe('operator endpoints: attempts are rate-limited per source address', () => {
  test(`after ${SYS_ATTEMPTS_PER_WINDOW} attempts in a window, unseal and rekey are ThrottlingException and nothing changes, even for a genuine share; the window passes`, async () => {
    const clock = new ManualClock();
    let s = await startServer({ env: SHAMIR, clock });
    try {
      const shares = await initAndUnseal(s, 3, 2);
      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: SHAMIR, clock });
      const first = await sys(s, 'POST', '/v1/sys/unseal', { Share: shares[0] });
      assert.equal(first.json.Progress, 1);
      for (let i = 1; i < SYS_ATTEMPTS_PER_WINDOW; i++) {
        assert.equal((await sys(s, 'POST', '/v1/sys/unseal', { Share: junkShare() })).json.__type, 'InvalidShareException');
      }
      for (const [path, body] of [
        ['/v1/sys/unseal', { Share: shares[1] }],
        ['/v1/sys/unseal', { Share: shares[1], Reset: true }],
        ['/v1/sys/rekey/init', { Shares: 3, Threshold: 2, Share: shares[1] }],
        ['/v1/sys/rekey/update', { Share: shares[1], Nonce: 'x' }],
        ['/v1/sys/init', { Shares: 3, Threshold: 2 }],
      ] as const) {
        const r = await sys(s, 'POST', path, body);
        assert.deepEqual([r.status, r.json.__type], [400, 'ThrottlingException'], path);
        assert.match(String(r.json.message), /Rate exceeded.*retry in \d+ s\. Nothing was changed\./);
        const now = await status(s);
        assert.deepEqual([now.Sealed, now.Progress, now.Nonce, now.Rekey], [true, 1, first.json.Nonce, undefined], `${path} changed nothing`);
      }
      // Status is not an attempt: still answered.
      assert.equal((await sys(s, 'GET', '/v1/sys/seal-status')).status, 200);
      // Refused attempts do not extend the ban: once the window has passed, the genuine share counts.
      clock.advance(SYS_ATTEMPT_WINDOW_MS + 1);
      const second = await sys(s, 'POST', '/v1/sys/unseal', { Share: shares[1] });
      assert.deepEqual([second.status, second.json.Sealed], [200, false]);
    } finally {
      await s.stop(true);
    }
  });
});

describe('operator endpoints: every call is audited', () => {
  test('calls made while sealed (init, unseal, refusals) are written at the unseal, in order, read-only ones counted; calls while unsealed at once; an init of an initialized deployment is refused and audited', async () => {
    const s = await startServer({ env: SHAMIR });
    try {
      // More unthrottled read-only calls than the sealed node keeps events: they cannot push out the rest.
      for (let i = 0; i < 1050; i += 50) await Promise.all(Array.from({ length: 50 }, () => sys(s, 'GET', '/v1/sys/seal-status')));
      const init = await sys(s, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 });
      const shares = init.json.Shares as string[];
      const againSealed = await sys(s, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 });
      assert.equal(againSealed.json.__type, 'InvalidSealStateException');
      await sys(s, 'POST', '/v1/sys/unseal', { Share: junkShare() });
      await sys(s, 'POST', '/v1/sys/unseal', { Share: shares[0] });
      await sys(s, 'POST', '/v1/sys/unseal', { Share: shares[1] });
      const sealedCalls = (await trail(s)).filter((e) => String(e.eventName).startsWith('Sys'));
      assert.deepEqual(sealedCalls.map((e) => [e.eventName, e.errorCode ?? null]), [
        ['SysInit', null], ['SysInit', 'InvalidSealStateException'],
        ['SysUnseal', 'InvalidShareException'], ['SysUnseal', null], ['SysAuditEventsDropped', 'AuditEventsDropped'], ['SysUnseal', null],
      ]);
      assert.match(String(sealedCalls[4]!.errorMessage), /^1050 read-only operator calls/);
      assert.deepEqual([sealedCalls[0]!.requestParameters, sealedCalls[0]!.responseElements], [{ threshold: 2 }, { threshold: 2, rootKeyVersion: 1 }]);
      assert.deepEqual(sealedCalls[5]!.responseElements, { sealed: false, progress: 0, nonce: '' });
      for (const e of sealedCalls.filter((c) => c.eventName !== 'SysAuditEventsDropped')) {
        assert.equal(e.sourceIPAddress, '127.0.0.1');
        assert.doesNotMatch(JSON.stringify(e), new RegExp(shares.map((x) => x.replace(/[+/=]/g, '\\$&')).join('|')), 'no share in the trail');
      }

      // Unsealed: recorded before the answer leaves; the caller's identity when signed.
      const again = await sys(s, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 });
      assert.deepEqual([again.status, again.json.__type], [400, 'InvalidSealStateException']);
      await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2 }, ADMIN);
      const last = (await trail(s)).slice(-2);
      assert.deepEqual(last.map((e) => [e.eventName, e.errorCode ?? null]), [['SysInit', 'InvalidSealStateException'], ['SysRekeyInit', null]]);
      assert.match(String((last[1]!.userIdentity as Record<string, unknown>).arn), /:user\//);
      // And through LookupEvents, like every other call.
      const found = await rawCall(s.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
        JSON.stringify({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'SysInit' }] }), { service: 'cloudtrail' });
      assert.equal((found.json.Events as unknown[]).length, 3);
    } finally {
      await s.stop(true);
    }
  });

  test('with the audit trail unwritable, an operator state change is refused and changes nothing (fail closed)', async () => {
    let faults!: FaultInjectingStorage;
    const s = await startServer({ env: SHAMIR, wrapStorage: (st) => (faults = new FaultInjectingStorage(st)) });
    try {
      const shares = await initAndUnseal(s);
      faults.unwritable.add('audit');
      const r = await sys(s, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2, Share: shares[0] });
      assert.ok(r.status >= 500, `refused: ${JSON.stringify(r.json)}`);
      faults.unwritable.delete('audit');
      assert.equal((await status(s)).Rekey, undefined);
    } finally {
      await s.stop(true);
    }
  });
});
