/**
 * Micro-benchmark (bench/README.md, "Finding where the CPU goes"): GetParameter's reads of its parameter on
 * SQLite through the read cache, as the access rule and the operation made them before (the rule's row read
 * for the tags, then the joined read of the row and its latest version) and after (one joined read, shared:
 * src/parameters/request-reads.ts). CPU µs per request, 20,000 requests, three rounds, alternating.
 *
 *   node --import tsx bench/micro/parameter-reads.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findParameter } from '../../src/parameters/store.ts';
import { readLatest, RequestReads } from '../../src/parameters/request-reads.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { ReadCachingStorage } from '../../src/storage/read-cache.ts';
import { cpuUsPer } from './cpu-per-call.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-micro-'));
const storage = new ReadCachingStorage(await openStorage(`sqlite:${join(dir, 'trent.db')}`), 500);
const scope = { accountId: '111122223333', region: 'us-east-1' };
const NAME = '/bench/parameter';
await storage.transaction(async (tx) => {
  const now = Date.now();
  await tx.parameters.insert({ ...scope, name: NAME, version: 1, revision: 1, dueAt: null, createdAt: now, doc: { tags: [{ Key: 'team', Value: 'blue' }] } });
  // A 1 KiB SecureString is stored as the base64 of its KMS ciphertext: about 1.9 KB.
  await tx.parameters.insertVersion({
    ...scope, name: NAME, version: 1, createdAt: now, value: 'c'.repeat(1900), labels: [],
    doc: { type: 'SecureString', tier: 'Standard', dataType: 'text', keyId: 'alias/aws/ssm', policies: [], lastModifiedUser: 'arn:aws:iam::111122223333:user/admin' },
  });
});

const N = 20_000;
const before = async () => {
  await storage.read((r) => findParameter(r, scope, NAME));
  await readLatest(storage, scope, NAME);
};
const after = async () => {
  const reads = new RequestReads(storage);
  await reads.latest(scope, NAME);
  await reads.latest(scope, NAME);
};
for (let round = 1; round <= 3; round++) {
  process.stdout.write(`round ${round}: two reads ${(await cpuUsPer(before, N)).toFixed(1)} µs CPU, one shared read ${(await cpuUsPer(after, N)).toFixed(1)} µs CPU\n`);
}
await storage.close();
rmSync(dir, { recursive: true, force: true });
