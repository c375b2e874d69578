/**
 * `trent operator …`: the seal of a running server (docs/seal.md). init, status, unseal and rekey use
 * the /v1/sys/* endpoints, which work while sealed (shares prove themselves); `rekey init` proves itself
 * with `--share` or, without it, is SigV4-signed with AWS_ACCESS_KEY_ID… (a principal allowed
 * trent:Rekey, on an unsealed node). seal and rotate-root are signed TrentOperator calls. Every call is
 * audited. Endpoint from TRENT_ENDPOINT (default http://127.0.0.1:4599).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decryptWithAgeIdentity } from '../crypto/age.ts';
import { cliRequest } from './http-client.ts';
import { adminRequest, signedTrentHeaders, trentEndpoint } from './admin-request.ts';
import type { CliContext } from './main.ts';

/** Headers of a POST to `path` signed with the environment's credentials (SigV4, service `trent`). */
function signedHeaders(env: CliContext['env'], endpoint: URL, path: string, payload: string): Promise<Record<string, string>> {
  return signedTrentHeaders(env, endpoint, path, payload, { 'content-type': 'application/json' },
    'give --share <a current key share>, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of a principal allowed trent:Rekey');
}

async function sys(env: CliContext['env'], method: 'GET' | 'POST', path: string, body?: Record<string, unknown>, sign = false): Promise<Record<string, unknown>> {
  const endpoint = trentEndpoint(env);
  const payload = body ? JSON.stringify(body) : undefined;
  const res = await cliRequest(env, new URL(path, endpoint), {
    method,
    ...(payload !== undefined
      ? { headers: sign ? await signedHeaders(env, endpoint, path, payload) : { 'content-type': 'application/json' }, body: payload }
      : {}),
  });
  const json = (res.text ? JSON.parse(res.text) : {}) as Record<string, unknown>;
  if (res.status < 200 || res.status > 299) throw new Error(`${String(json.__type ?? res.status)}: ${String(json.message ?? '')}`);
  return json;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${v}`);
  return n;
};

export function registerOperatorCommands(program: Command, ctx: CliContext): void {
  const op = program.command('operator').description('initialize, unseal, seal, rotate the root key, rekey (docs/seal.md)');
  const print = (out: unknown) => void ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);

  op.command('init').description('initialize a new deployment: prints the key shares (once; keep each with a different operator)')
    .option('--shares <n>', 'number of key shares', positive, 5)
    .option('--threshold <m>', 'shares needed to unseal', positive, 3)
    .option('--age-recipient <age1…>', 'encrypt share i to the i-th age public key (repeat once per share)', collect)
    .action(async (o: { shares: number; threshold: number; ageRecipient?: string[] }) => {
      const out = await sys(ctx.env, 'POST', '/v1/sys/init', { Shares: o.shares, Threshold: o.threshold, ...(o.ageRecipient ? { AgeRecipients: o.ageRecipient } : {}) });
      const shares = out.Shares as string[];
      const lines = shares.map((s, i) => (o.ageRecipient ? `Unseal key share ${i + 1}, for ${o.ageRecipient[i]}:\n${s.trimEnd()}` : `Unseal key share ${i + 1}: ${s}`));
      lines.push('', `Any ${String(out.Threshold)} of these ${shares.length} shares unseal Trent. They are shown once and never stored.`);
      const admin = out.AdministratorAccessKey as { AccessKeyId: string; SecretAccessKey: string } | undefined;
      if (admin) lines.push('', 'Administrator access key (shown once):', `  AWS_ACCESS_KEY_ID=${admin.AccessKeyId}`, `  AWS_SECRET_ACCESS_KEY=${admin.SecretAccessKey}`);
      ctx.stdout.write(`${lines.join('\n')}\n`);
    });
  op.command('status').description('seal state, unseal progress and the nonce of the running attempt')
    .action(async () => print(await sys(ctx.env, 'GET', '/v1/sys/seal-status')));
  op.command('unseal <share>').description('add one key share to the unseal attempt')
    .option('--nonce <nonce>', 'the attempt this share is for (from `trent operator status`)')
    .option('--age-identity <file>', '<share> is a file holding the age-encrypted share; decrypt it with this identity file')
    .option('--reset', 'abandon the running attempt instead (<share> proves you hold a current share; it is not added)')
    .action(async (share: string, o: { nonce?: string; ageIdentity?: string; reset?: boolean }) => {
      let text = share;
      if (o.ageIdentity) {
        const identity = readFileSync(o.ageIdentity, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'));
        if (!identity) throw new Error(`no AGE-SECRET-KEY- line in ${o.ageIdentity}`);
        const plain = await decryptWithAgeIdentity(identity, readFileSync(share, 'utf8'));
        text = plain.toString('utf8');
        plain.fill(0);
      }
      print(await sys(ctx.env, 'POST', '/v1/sys/unseal', o.reset ? { Share: text, Reset: true } : { Share: text, ...(o.nonce ? { Nonce: o.nonce } : {}) }));
    });
  op.command('seal').description('zeroize every key in memory and return the node to sealed (authenticated)')
    .action(async () => print(await adminRequest(ctx.env, 'Seal', {}, 'TrentOperator')));
  op.command('rotate-root').description('add a new root-key version; new seals use it, old blobs keep opening (authenticated)')
    .action(async () => print(await adminRequest(ctx.env, 'RotateRootKey', {}, 'TrentOperator')));
  const rekey = op.command('rekey').description('replace the key shares (new N/M); needs M current shares');
  rekey.command('init').option('--shares <n>', 'number of new shares', positive, 5).option('--threshold <m>', 'new threshold', positive, 3)
    .option('--share <share>', 'a current key share: proves the request and counts as the first share (else the request is signed with AWS_ACCESS_KEY_ID…)')
    .action(async (o: { shares: number; threshold: number; share?: string }) => print(await sys(ctx.env, 'POST', '/v1/sys/rekey/init',
      { Shares: o.shares, Threshold: o.threshold, ...(o.share ? { Share: o.share } : {}) }, o.share === undefined)));
  rekey.command('update <share>').requiredOption('--nonce <nonce>', 'the rekey attempt (from `trent operator rekey init`)')
    .action(async (share: string, o: { nonce: string }) => print(await sys(ctx.env, 'POST', '/v1/sys/rekey/update', { Share: share, Nonce: o.nonce })));
}
