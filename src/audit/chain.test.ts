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
  let from = 0;
  for (const seq of at) {
    await insertDigest(repo as never, s, { firstEventSeq: from + 1, hashes: rows.slice(from, seq).map((r) => r.hash) }, out[out.length - 1], 1);
    from = seq;
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

/** The chain with event `from` (1-based) and every later one rewritten, hashes recomputed. */
function rewriteFrom(rows: AuditEventRow[], from: number): AuditEventRow[] {
  let prev = rows[from - 2]?.hash ?? '';
  return rows.map((r) => {
    if (r.seq < from) return r;
    // A careful forger rewrites the queried column with the record (verifyChain checks them against each other).
    const record = r.record.replace('"Encrypt"', '"Decrypt"');
    const row = { ...r, record, eventName: r.eventName === 'Encrypt' ? 'Decrypt' : r.eventName, prevHash: prev, hash: chainHash(prev, record) };
    prev = row.hash;
    return row;
  });
}

test('a rewritten chain (every hash recomputed) is named at the first event that differs from the signed digests', async () => {
  const s = signer();
  const rows = chain(10);
  const digests = await digestsFor(rows, [4, 10], s);
  const r = verifyChain(rewriteFrom(rows, 7), digests, s.publicKeySpki);
  assert.equal(r.firstBreak?.kind, 'edited');
  assert.equal(r.firstBreak?.seq, 7);
  assert.match(r.firstBreak!.message, /event seq 7 \(eventID event-7\) differs from what signed digest 2 recorded/);
});

const policy = (now: number, maxEvents = 1000, maxAgeMs = 2000) => ({ tail: { maxEvents, maxAgeMs, now } });

test('with an anchor policy, a chain no digest signs is refused, and an empty one is not', () => {
  const rows = chain(3);
  const r = verifyChain(rows, [], signer().publicKeySpki, policy(rows[2]!.eventTime));
  assert.equal(r.firstBreak?.kind, 'unsigned');
  assert.equal(r.firstBreak?.seq, 1);
  assert.equal(verifyChain([], [], signer().publicKeySpki, policy(0)).ok, true);
});

test('with an anchor policy, an unsigned tail beyond the bound (events or age) is refused; within it, it is reported', async () => {
  const s = signer();
  const rows = chain(10);
  const digests = await digestsFor(rows, [6], s);
  const now = rows[9]!.eventTime;
  const within = verifyChain(rows, digests, s.publicKeySpki, policy(now));
  assert.equal(within.ok, true, within.firstBreak?.message);
  assert.equal(within.unsignedTail, 4);
  const tooMany = verifyChain(rows, digests, s.publicKeySpki, policy(now, 3));
  assert.deepEqual([tooMany.firstBreak?.kind, tooMany.firstBreak?.seq], ['unsigned', 7]);
  const tooOld = verifyChain(rows, digests, s.publicKeySpki, policy(rows[6]!.eventTime + 2001));
  assert.deepEqual([tooOld.firstBreak?.kind, tooOld.firstBreak?.seq], ['unsigned', 7]);
});

test('a digest missing between two others is named as a gap, and so is a missing first digest', async () => {
  const s = signer();
  const rows = chain(9);
  const digests = await digestsFor(rows, [3, 6, 9], s);
  const gap = verifyChain(rows, [digests[0]!, digests[2]!], s.publicKeySpki);
  assert.equal(gap.firstBreak?.kind, 'digest');
  assert.match(gap.firstBreak!.message, /digest 3 .*digest 2 is missing/);
  const noFirst = verifyChain(rows, digests.slice(1), s.publicKeySpki);
  assert.match(noFirst.firstBreak!.message, /digest 2 .*digest 1 is missing/);
});

test('a digest that covers the same events again, or skips some, is refused', async () => {
  const s = signer();
  const rows = chain(6);
  const [d1] = await digestsFor(rows, [3], s);
  // A second digest that starts at event 5: event 4 would be signed by nothing.
  const repo = { insertDigest: async () => undefined };
  const skipping = await insertDigest(repo as never, s, { firstEventSeq: 5, hashes: [rows[4]!.hash, rows[5]!.hash] }, d1, 1);
  assert.match(verifyChain(rows, [d1!, skipping], s.publicKeySpki).firstBreak!.message, /coverage has a gap/);
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
  // Every covered event's hash is signed, so any covered boundary anchors; past the signed events it does not.
  assert.equal(verifyChain(rows.slice(2), digests, s.publicKeySpki).ok, true);
  const early = await digestsFor(rows, [4], s);
  assert.equal(verifyChain(rows.slice(6), early, s.publicKeySpki).firstBreak?.kind, 'deleted');
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
