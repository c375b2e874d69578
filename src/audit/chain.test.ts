import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ecGenerateKeyPair, ecPrivateKey, ecdsaSign } from '../crypto/ecc.ts';
import { sha256 } from '../crypto/primitives.ts';
import type { AuditDigestRow, AuditEventRow } from '../storage/audit-repo.ts';
import { eventRow, insertDigest } from './audit-log.ts';
import { chainHash, verifyChain } from './chain.ts';
import type { DigestSigner } from './digest-key.ts';
import { buildEvent } from './event.ts';

function signer(): DigestSigner {
  const kp = ecGenerateKeyPair('P-256');
  const key = ecPrivateKey(kp.privateKeyPkcs8, 'P-256')!;
  return {
    publicKeySpki: kp.publicKeySpki,
    fingerprint: sha256(kp.publicKeySpki).toString('hex'),
    sign: (s) => ecdsaSign(key, 'P-256', 'sha256', false, Buffer.from(s)).toString('base64'),
  };
}

function chain(n: number): AuditEventRow[] {
  const rows: AuditEventRow[] = [];
  let prev = '';
  for (let i = 1; i <= n; i++) {
    const e = buildEvent({
      requestId: `req-${i}`, eventId: `event-${i}`, eventTime: 1_700_000_000_000 + i, eventSource: 'kms.amazonaws.com',
      eventName: 'Encrypt', readOnly: true, defaultAccountId: '111122223333', defaultRegion: 'us-east-1', input: { KeyId: `k${i}` },
    });
    const row = eventRow(e, i, prev);
    rows.push(row);
    prev = row.hash;
  }
  return rows;
}

async function digestsFor(rows: AuditEventRow[], at: number[], s: DigestSigner): Promise<AuditDigestRow[]> {
  const out: AuditDigestRow[] = [];
  const repo = { insertDigest: async (d: AuditDigestRow) => void out.push(d) };
  for (const seq of at) {
    const row = rows[seq - 1]!;
    await insertDigest(repo as never, s, { seq, hash: row.hash }, out[out.length - 1], 1);
  }
  return out;
}

/** Renumbers rows to their array position (what an attacker does to hide a gap). */
const renumber = (rows: AuditEventRow[]) => rows.map((r, i) => ({ ...r, seq: i + 1 }));

test('an untouched chain with its digests verifies', async () => {
  const s = signer();
  const rows = chain(10);
  const r = verifyChain(rows, await digestsFor(rows, [5, 10], s), s.publicKeySpki);
  assert.equal(r.ok, true, r.firstBreak?.message);
  assert.equal(r.unsignedTail, 0);
});

test('an edited event is named as edited', () => {
  const rows = chain(10);
  rows[4] = { ...rows[4]!, record: rows[4]!.record.replace('"k5"', '"k999"') };
  const r = verifyChain(rows, [], undefined);
  assert.equal(r.firstBreak?.kind, 'edited');
  assert.equal(r.firstBreak?.seq, 5);
  assert.equal(r.firstBreak?.eventId, 'event-5');
});

test('an edited event whose hash was recomputed is named: the next event does not link to it', () => {
  const rows = chain(10);
  const record = rows[4]!.record.replace('"k5"', '"k999"');
  rows[4] = { ...rows[4]!, record, hash: chainHash(rows[4]!.prevHash, record) };
  const r = verifyChain(rows, [], undefined);
  assert.equal(r.firstBreak?.kind, 'edited');
  assert.equal(r.firstBreak?.seq, 5);
});

test('a deleted event is named by its seq', () => {
  const rows = chain(10);
  rows.splice(6, 1); // seq 7
  const r = verifyChain(rows, [], undefined);
  assert.equal(r.firstBreak?.kind, 'deleted');
  assert.equal(r.firstBreak?.seq, 7);
});

test('a deleted event is found even when the seqs were renumbered to hide the gap', () => {
  const rows = chain(10);
  rows.splice(6, 1);
  const r = verifyChain(renumber(rows), [], undefined);
  assert.equal(r.ok, false);
  // The break is named at the last intact event: seq 7 no longer links to seq 6.
  assert.equal(r.firstBreak?.seq, 6);
  assert.match(r.firstBreak!.message, /deleted/);
});

test('deleting the newest events is caught by the digest that covered them', async () => {
  const s = signer();
  const rows = chain(10);
  const digests = await digestsFor(rows, [10], s);
  const r = verifyChain(rows.slice(0, 8), digests, s.publicKeySpki);
  assert.equal(r.firstBreak?.kind, 'deleted');
  assert.equal(r.firstBreak?.seq, 9);
});

test('an inserted event (self-consistent, seqs renumbered) is named as inserted', () => {
  const rows = chain(10);
  const forged = eventRow(
    buildEvent({ requestId: 'x', eventId: 'forged', eventTime: 1, eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', readOnly: true, defaultAccountId: '1', defaultRegion: 'us-east-1' }),
    5, rows[3]!.hash,
  );
  rows.splice(4, 0, forged);
  const r = verifyChain(renumber(rows), [], undefined);
  assert.equal(r.firstBreak?.kind, 'inserted');
  assert.equal(r.firstBreak?.seq, 5);
  assert.equal(r.firstBreak?.eventId, 'forged');
});

test('two swapped events are named as reordered at the first of them', () => {
  const rows = chain(10);
  const a = rows[2]!; // seq 3
  const b = rows[7]!; // seq 8
  rows[2] = { ...b, seq: 3 };
  rows[7] = { ...a, seq: 8 };
  const r = verifyChain(rows, [], undefined);
  assert.equal(r.firstBreak?.kind, 'reordered');
  assert.equal(r.firstBreak?.seq, 3);
  assert.equal(r.firstBreak?.eventId, 'event-8');
});

test('a rewritten chain (every hash recomputed) is caught by the signed digest', async () => {
  const s = signer();
  const rows = chain(10);
  const digests = await digestsFor(rows, [10], s);
  let prev = '';
  const rewritten = rows.map((r) => {
    const record = r.record.replace('"Encrypt"', '"Decrypt"');
    const row = { ...r, record, prevHash: prev, hash: chainHash(prev, record) };
    prev = row.hash;
    return row;
  });
  const r = verifyChain(rewritten, digests, s.publicKeySpki);
  assert.equal(r.firstBreak?.kind, 'digest');
  assert.equal(r.firstBreak?.seq, 10);
});

test('a digest signed by another key, or edited, fails verification', async () => {
  const s = signer();
  const rows = chain(4);
  const digests = await digestsFor(rows, [4], s);
  assert.equal(verifyChain(rows, digests, signer().publicKeySpki).firstBreak?.kind, 'digest');
  const edited = [{ ...digests[0]!, record: digests[0]!.record.replace('"lastEventSeq":4', '"lastEventSeq":3'), lastEventSeq: 3 }];
  assert.equal(verifyChain(rows, edited, s.publicKeySpki).firstBreak?.kind, 'digest');
});

test('after pruning, the first remaining event is anchored by the digest at the pruned head', async () => {
  const s = signer();
  const rows = chain(10);
  const digests = await digestsFor(rows, [4, 10], s);
  assert.equal(verifyChain(rows.slice(4), digests, s.publicKeySpki).ok, true);
  // Without a digest at the boundary, missing early events are a deletion.
  assert.equal(verifyChain(rows.slice(3), digests, s.publicKeySpki).firstBreak?.kind, 'deleted');
});

test('chainHash is SHA-256 of the previous hash, a newline and the record, in UTF-8 (the format chains already stored were hashed in)', () => {
  const prev = 'a'.repeat(64);
  for (const record of ['{"eventName":"Encrypt"}', '{"userAgent":"naïve 東京 🔑"}', '', '{"x":"\\ud800"}']) {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(prev, 'utf8'), Buffer.from('\n', 'utf8'), Buffer.from(record, 'utf8')]))
      .digest('hex');
    assert.equal(chainHash(prev, record), expected, record);
  }
  // The first event of a chain links to the empty string.
  assert.equal(chainHash('', '{}'), createHash('sha256').update('\n{}').digest('hex'));
});
