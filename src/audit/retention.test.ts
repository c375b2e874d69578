import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { Keyring } from '../seal/keyring.ts';
import { KeyringBarrier } from '../seal/keyring-barrier.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { AuditLog } from './audit-log.ts';
import { verifyChain } from './chain.ts';
import { loadDigestSigner, readDigestPublicKey } from './digest-key.ts';
import { buildEvent } from './event.ts';

test('retention exports expired events to JSON Lines before pruning them, and the pruned chain still verifies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trent-retention-'));
  const storage = new SqliteStorage(join(dir, 'trent.db'));
  try {
    await storage.migrate();
    let now = 1_000_000;
    const clock = { now: () => now };
    const signer = await loadDigestSigner(storage, new KeyringBarrier(Keyring.withFirst(SecretBytes.adopt(randomBytesBuffer(32)))));
    const log = new AuditLog({ storage, clock, logger: pino({ level: 'silent' }), signer });
    const record = (i: number) =>
      log.record(buildEvent({ requestId: `r${i}`, eventId: `e${i}`, eventTime: now, eventSource: 'kms.amazonaws.com', eventName: 'ListKeys',
        readOnly: true, defaultAccountId: '111122223333', defaultRegion: 'us-east-1' }));
    for (let i = 1; i <= 5; i++) await record(i);
    await log.writeDigest(); // covers 1..5
    now += 10 * 86_400_000;
    for (let i = 6; i <= 8; i++) await record(i);
    const { pruneExpired } = await import('./retention.ts');
    const out = join(dir, 'export');
    const done = await pruneExpired(storage, now - 86_400_000, out);
    assert.equal(done?.pruned, 5);
    const lines = readFileSync(join(out, readdirSync(out)[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; event: { eventID: string } });
    assert.deepEqual(lines.map((l) => l.event.eventID), ['e1', 'e2', 'e3', 'e4', 'e5']);
    const rows = await storage.read((r) => r.audit.scan(0, 100));
    assert.deepEqual(rows.map((r) => r.seq), [6, 7, 8]);
    const result = verifyChain(rows, await storage.read((r) => r.audit.listDigests()), await storage.read((r) => readDigestPublicKey(r)));
    assert.equal(result.ok, true, result.firstBreak?.message);
    // Events not yet covered by a digest are never pruned, whatever their age.
    now += 100 * 86_400_000;
    assert.equal(await pruneExpired(storage, now, out), undefined);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
