/**
 * Micro-benchmark (bench/README.md, "Reads: GetParameter and GetSecretValue"): GetParameter's joined read
 * of a parameter and its latest version on SQLite (readLatest, no read cache: parameter rows are never
 * cached), alone, right after a commit of another row (as an audit batch commits between requests under
 * load), and while a transaction is open (the read then goes to the second, read-only connection). Wall
 * µs per read, the reads alone timed, 5,000 reads per cell, two rounds.
 *
 *   node --import tsx bench/micro/read-after-commit.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLatest } from '../../src/parameters/request-reads.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { Repos } from '../../src/storage/storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-micro-'));
const storage = await openStorage(`sqlite:${join(dir, 'trent.db')}`);
const scope = { accountId: '111122223333', region: 'us-east-1' };
const NAME = '/bench/parameter';
const now = Date.now();
await storage.transaction(async (tx) => {
  await tx.parameters.insert({ ...scope, name: NAME, version: 1, revision: 1, dueAt: null, createdAt: now, doc: { tags: [] } });
  // A 1 KiB SecureString is stored as the base64 of its KMS ciphertext: about 1.9 KB.
  await tx.parameters.insertVersion({
    ...scope, name: NAME, version: 1, createdAt: now, value: 'c'.repeat(1900), labels: [],
    doc: { type: 'SecureString', tier: 'Standard', dataType: 'text', keyId: 'alias/aws/ssm', policies: [] },
  });
});

let written = 0;
const writeOther = (tx: Repos) => tx.parameters.insert({ ...scope, name: `/other/${written++}`, version: 1, revision: 1, dueAt: null, createdAt: now, doc: { tags: [] } });
const timed = async (): Promise<bigint> => {
  const t0 = process.hrtime.bigint();
  await readLatest(storage, scope, NAME);
  return process.hrtime.bigint() - t0;
};
const cases: Record<string, () => Promise<bigint>> = {
  alone: timed,
  'after a commit': async () => {
    await storage.transaction(writeOther);
    return timed();
  },
  'during a transaction': async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = storage.transaction(async (r) => {
      await writeOther(r);
      await held;
    });
    await new Promise((r) => setImmediate(r));
    const t = await timed();
    release();
    await tx;
    return t;
  },
};
const N = 5_000;
for (let round = 1; round <= 2; round++) {
  const cells: string[] = [];
  for (const [label, run] of Object.entries(cases)) {
    let total = 0n;
    for (let i = 0; i < N; i++) total += await run();
    cells.push(`${label} ${(Number(total) / N / 1000).toFixed(1)} µs`);
  }
  process.stdout.write(`round ${round}: ${cells.join(', ')}\n`);
}
await storage.close();
rmSync(dir, { recursive: true, force: true });
