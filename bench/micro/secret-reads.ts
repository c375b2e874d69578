/**
 * Micro-benchmark (bench/README.md, "Finding where the CPU goes"): what a GetSecretValue asks of the
 * authorizer, and of storage, on SQLite through the read cache, as the bench's admin (an IAM user whose
 * AdministratorAccess policy allows everything):
 * - authorize: secretsmanager:GetSecretValue on the secret (secret-lookup.ts findAuthorized), then
 *   kms:Decrypt of the version's data key through Secrets Manager on its aws/secretsmanager key (the
 *   caller via the service, the version's encryption context: secret-sealing.ts open);
 * - reads: the secret's row and its version's row, as find and open read them.
 * CPU µs per request, 20,000 requests, three rounds. Copy it into another tree to compare two trees (before
 * callerViaService, the edge made the caller through the service as `{ ...caller, viaService }`).
 *
 *   node --import tsx bench/micro/secret-reads.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_POLICY_NAME, ADMIN_POLICY_TEXT, createAuthorizer } from '../../src/auth/authorizer.ts';
import { type Caller, callerViaService } from '../../src/auth/caller.ts';
import { awsManagedKeyPolicyText } from '../../src/policy/resource-policy.ts';
import { SECRET_ACCESS, secretResource } from '../../src/secrets/access-rules.ts';
import { toSecret } from '../../src/secrets/secret-context.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { ReadCachingStorage } from '../../src/storage/read-cache.ts';
import { cpuUsPer } from './cpu-per-call.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-micro-'));
const storage = new ReadCachingStorage(await openStorage(`sqlite:${join(dir, 'trent.db')}`), 500);
const scope = { accountId: '111122223333', region: 'us-east-1' };
const admin = `arn:aws:iam::${scope.accountId}:user/admin`;
const secretArn = `arn:aws:secretsmanager:us-east-1:${scope.accountId}:secret:bench/secret-AbCdEf`;
const keyArn = `arn:aws:kms:us-east-1:${scope.accountId}:key/00000000-0000-4000-8000-000000000000`;
const versionId = '11111111-2222-4333-8444-555555555555';
const now = Date.now();
await storage.transaction(async (tx) => {
  await tx.principals.insert({
    arn: admin, accountId: scope.accountId, kind: 'user', name: 'admin', createdAt: now, revision: 1,
    doc: { tags: {}, policies: { [ADMIN_POLICY_NAME]: ADMIN_POLICY_TEXT }, administrator: true },
  });
  await tx.secrets.insert({
    ...scope, name: 'bench/secret', arn: secretArn, createdAt: now, dueAt: null, revision: 1,
    doc: {
      kmsKeyArn: keyArn, tags: [], createdAt: now, lastChangedAt: now, rotation: { enabled: false },
      versions: { [versionId]: { stages: ['AWSCURRENT'], createdAt: now, kind: 'string', kmsKeyArn: keyArn } },
    },
  });
  await tx.secretVersions.insert({
    secretArn, versionId, createdAt: now, encryptedDataKey: Buffer.alloc(150, 1), sealedValue: Buffer.alloc(1024 + 28, 2), doc: { kind: 'string' },
  });
});
const authorizer = createAuthorizer({ storage, clock: { now: () => Date.now() } });
const caller: Caller = { ...scope, principalArn: admin, accessKeyId: 'AKIATRENTBENCHADMIN1', sourceIp: '127.0.0.1', userAgent: 'bench' };
const key = {
  scope, keyId: '00000000-0000-4000-8000-000000000000', arn: keyArn,
  doc: { policy: awsManagedKeyPolicyText(scope.accountId, scope.region, 'secretsmanager'), keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', multiRegion: false, state: 'Enabled' },
};
const secret = toSecret((await storage.read((r) => r.secrets.get(scope, 'bench/secret')))!);

const N = 20_000;
const authorize = async () => {
  const resource = secretResource(caller, 'bench/secret', secret, SECRET_ACCESS.GetSecretValue({ secretId: 'bench/secret' }).requestKeys);
  await authorizer.authorizeResource(caller, 'secretsmanager:GetSecretValue', resource);
  // The edge hands the operation the caller through the service (http/access-control.ts).
  const via = callerViaService(caller, 'secretsmanager');
  await authorizer.authorize(via, 'kms:Decrypt', { key, encryptionContext: { SecretARN: secretArn, SecretVersionId: versionId } });
};
const reads = async () => {
  await storage.read((r) => r.secrets.get(scope, 'bench/secret'));
  await storage.read((r) => r.secretVersions.get(secretArn, versionId));
};
for (let round = 1; round <= 3; round++) {
  process.stdout.write(`round ${round}: authorize ${(await cpuUsPer(authorize, N)).toFixed(1)} µs CPU, reads ${(await cpuUsPer(reads, N)).toFixed(1)} µs CPU\n`);
}
await storage.close();
rmSync(dir, { recursive: true, force: true });
