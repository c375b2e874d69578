/**
 * The audit trail's trust anchor is outside the store: the digest key an auditor pinned when the
 * deployment was initialized, and the digests delivered to TRENT_AUDIT_DIGEST_DIR as they were made. An
 * insider who can write the store (every table, the stored key included) is caught by
 * `trent audit verify --public-key … --digests …` run through the real CLI (bin/trent.js) when they
 * delete every digest and recompute the chain, delete the newest events, or rewrite one event with
 * recomputed hashes; a wrong pinned key fails. Run on SQLite and (TRENT_E2E_STORAGE=postgres) PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, EncryptCommand, type KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import pg from 'pg';
import { chainHash } from '../../src/audit/chain.ts';
import { digestFileName, digestStatement, spkiToPem } from '../../src/audit/digest.ts';
import { ecdsaSign, ecGenerateKeyPair, ecPrivateKey } from '../../src/crypto/ecc.ts';
import { sha256 } from '../../src/crypto/primitives.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/postgres-storage.ts';
import { freshSchemaUrl } from '../../src/storage/postgres/test-database.ts';
import { e2eStorageUrl, startServer } from './harness.ts';
import { runTrent } from './trent-cli.ts';

/** A store an auditor verifies and an insider edits with plain SQL (`?` placeholders on both stores). */
interface Store {
  url: string;
  sql(statement: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function openSqlStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    return {
      url,
      sql: async (s, p = []) => (/^\s*select/i.test(s) ? (db.prepare(s).all(...p) as Record<string, unknown>[]) : (db.prepare(s).run(...p), [])),
      close: async () => void db.close(),
    };
  }
  const { connectionString, schema } = parsePostgresUrl(url);
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query(`SET search_path TO ${pg.escapeIdentifier(schema!)}`);
  return {
    url,
    sql: async (s, p = []) => {
      let n = 0;
      return (await client.query(s.replace(/\?/g, () => `$${++n}`), p)).rows as Record<string, unknown>[];
    },
    close: () => client.end(),
  };
}

/** A copy of the deployment's store for one tampering case. */
async function copyStore(url: string, dir: string): Promise<string> {
  if (url.startsWith('sqlite:')) {
    const to = join(mkdtempSync(join(dir, 'case-')), 'trent.db');
    copyFileSync(url.slice('sqlite:'.length), to);
    return `sqlite:${to}`;
  }
  const { connectionString, schema } = parsePostgresUrl(url);
  const copy = await freshSchemaUrl(connectionString);
  const target = parsePostgresUrl(copy).schema!;
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const tables = (await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema])).rows as { table_name: string }[];
    for (const { table_name: t } of tables) {
      const [from, to] = [`${pg.escapeIdentifier(schema!)}.${pg.escapeIdentifier(t)}`, `${pg.escapeIdentifier(target)}.${pg.escapeIdentifier(t)}`];
      await client.query(`CREATE TABLE ${to} (LIKE ${from} INCLUDING ALL)`);
      await client.query(`INSERT INTO ${to} SELECT * FROM ${from}`);
    }
  } finally {
    await client.end();
  }
  return copy;
}

/** Rewrites event `seq`'s record with `edit` and recomputes its hash and every later one (what an insider can do). */
async function rewriteEvent(store: Store, seq: number, edit: (record: string) => string): Promise<void> {
  const rows = (await store.sql('SELECT seq, record, prev_hash, hash FROM audit_events ORDER BY seq')) as { seq: number | string; record: string; prev_hash: string; hash: string }[];
  let prev: string | undefined;
  for (const r of rows) {
    if (Number(r.seq) < seq) continue;
    const record = Number(r.seq) === seq ? edit(r.record) : r.record;
    const prevHash = prev ?? r.prev_hash;
    const hash = chainHash(prevHash, record);
    await store.sql('UPDATE audit_events SET record = ?, prev_hash = ?, hash = ? WHERE seq = ?', [record, prevHash, hash, Number(r.seq)]);
    prev = hash;
  }
}

describe('trent audit verify against the pinned key and the delivered digests', () => {
  let work: string;
  let url: string;
  let digestDir: string;
  let pinned: string;
  let fingerprint: string;
  let events: { seq: number; eventId: string; eventTime: number; record: string }[];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'trent-anchor-'));
    const dataDir = join(work, 'data');
    digestDir = join(work, 'delivered-digests');
    url = await e2eStorageUrl(dataDir);
    // Small digests so the chain is covered by several of them; the interval bounds the unsigned tail.
    const server = await startServer({ dataDir, env: { TRENT_STORAGE: url, TRENT_AUDIT_DIGEST_DIR: digestDir, TRENT_AUDIT_DIGEST_MAX_EVENTS: '4' } });
    // Printed once at initialization: what the auditor keeps.
    const created = server.app.createdDigestKey;
    assert.ok(created, 'the first start created the digest key and reports it for printing');
    pinned = join(work, 'pinned.pem');
    writeFileSync(pinned, created.publicKeyPem);
    fingerprint = created.fingerprint;
    const kms = server.kms();
    for (let i = 0; i < 6; i++) {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: `anchor ${i}` }));
      await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from(`p${i}`) }));
    }
    await server.stop();
    const s = await openStorage(url);
    try {
      events = (await s.read((r) => r.audit.scan(0, 1000))).map((e) => ({ seq: e.seq, eventId: e.eventId, eventTime: e.eventTime, record: e.record }));
    } finally {
      await s.close();
    }
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const verify = (storeUrl: string, ...extra: string[]) => runTrent(['audit', 'verify', '--storage', storeUrl, ...extra]);

  /** A fresh copy of the store edited by `tamper`, and a copy of the delivered digests edited by `tamperDigests`. */
  async function tampered(tamper: (s: Store) => Promise<void>, tamperDigests: (dir: string) => void = () => undefined): Promise<{ url: string; digests: string }> {
    const copy = await copyStore(url, work);
    const store = await openSqlStore(copy);
    try {
      await tamper(store);
    } finally {
      await store.close();
    }
    const digests = mkdtempSync(join(work, 'digests-'));
    cpSync(digestDir, digests, { recursive: true });
    tamperDigests(digests);
    return { url: copy, digests };
  }

  test('every digest in the store was delivered, as a file, when it was made', async () => {
    const s = await openStorage(url);
    const stored = await s.read((r) => r.audit.listDigests()).finally(() => s.close());
    assert.ok(stored.length >= 3, `${stored.length} digests`);
    for (const d of stored) {
      const file = JSON.parse(readFileSync(join(digestDir, digestFileName(d.digestSeq)), 'utf8')) as { record: string; signature: string };
      assert.deepEqual([file.record, file.signature], [d.record, d.signature]);
    }
    assert.equal(readdirSync(digestDir).length, stored.length, 'no temporary file is left');
  });

  test('trent audit public-key prints the key printed at initialization', async () => {
    const r = await runTrent(['audit', 'public-key', '--storage', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(readFileSync(pinned, 'utf8')));
    assert.match(r.stdout, new RegExp(`fingerprint \\(SHA-256 of the SPKI\\): ${fingerprint}`));
  });

  test('the untouched deployment verifies under the pinned key and the delivered digests (and under --fingerprint)', async () => {
    const r = await verify(url, '--public-key', pinned, '--digests', digestDir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`audit chain OK: ${events.length} events, \\d+ signed digests \\(delivered\\)`));
    assert.doesNotMatch(r.stdout, /WARNING/);
    const f = await verify(url, '--fingerprint', fingerprint, '--digests', digestDir);
    assert.equal(f.code, 0, f.stdout + f.stderr);
  });

  test('deleting every digest and recomputing the chain: refused without digests, named at the rewritten event with the delivered ones', async () => {
    const target = events.find((e) => e.record.includes('"anchor 2"'))!;
    const t = await tampered(async (s) => {
      await s.sql('DELETE FROM audit_digests');
      await rewriteEvent(s, target.seq, (r) => r.replace('"anchor 2"', '"innocent"'));
    });
    const storeOnly = await verify(t.url, '--public-key', pinned);
    assert.equal(storeOnly.code, 1, storeOnly.stdout);
    assert.match(storeOnly.stdout, /BROKEN \(unsigned\): no signed digest covers the chain/);
    const r = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`BROKEN \\(edited\\): event seq ${target.seq} \\(eventID ${target.eventId}\\) differs from what signed digest \\d+ recorded`));
  });

  test('a column LookupEvents filters and answers on, edited alone (hashes untouched), is an edited event', async () => {
    // The account (a moved event vanishes from its account's LookupEvents), the resources (GetKeyLastUsage)
    // and the time (LookupEvents' ranges, and the unsigned tail's age); index-columns.test.ts has every column.
    const target = events.find((e) => e.record.includes('"Encrypt"'))!;
    for (const [column, value] of [['recipient_account', '444455556666'], ['resource_names', '[]'], ['event_time', target.eventTime + 3_600_000]] as const) {
      const t = await tampered((s) => s.sql(`UPDATE audit_events SET ${column} = ? WHERE seq = ?`, [value, target.seq]).then(() => undefined));
      const r = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
      assert.equal(r.code, 1, `${column}: ${r.stdout}`);
      assert.match(r.stdout, new RegExp(`BROKEN \\(edited\\): event seq ${target.seq} \\(eventID ${target.eventId}\\) was edited: its \\w+ column differs from its record`), column);
    }
  });

  test('a self-consistent event stored before seq 1 (which LookupEvents would serve) is an inserted event', async () => {
    const first = events[0]!;
    const record = first.record.replace(first.eventId, 'forged-event-id');
    const t = await tampered(async (s) => {
      const [row] = await s.sql('SELECT * FROM audit_events WHERE seq = ?', [first.seq]);
      const columns = Object.keys(row!).filter((c) => !['seq', 'event_id', 'record', 'prev_hash', 'hash'].includes(c));
      await s.sql(`INSERT INTO audit_events (seq, event_id, record, prev_hash, hash, ${columns.join(', ')}) VALUES (?, ?, ?, ?, ?, ${columns.map(() => '?').join(', ')})`,
        [-1, 'forged-event-id', record, '', chainHash('', record), ...columns.map((c) => row![c])]);
    });
    const r = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /BROKEN \(inserted\): event seq -1 \(eventID forged-event-id\) was inserted: the chain starts at seq 1/);
  });

  test('deleting the newest events (and the store digests that covered them) is named with the first missing event', async () => {
    const keep = events.length - 5;
    const t = await tampered(async (s) => {
      await s.sql('DELETE FROM audit_events WHERE seq > ?', [keep]);
      await s.sql('DELETE FROM audit_digests WHERE last_event_seq > ?', [keep]);
    });
    const r = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`BROKEN \\(deleted\\): events seq ${keep + 1}–${events.length} were deleted: signed digest \\d+ covers them`));
  });

  test('rewriting one event with recomputed hashes is named at that event', async () => {
    const target = events.find((e) => e.record.includes('"anchor 0"'))!;
    const t = await tampered((s) => rewriteEvent(s, target.seq, (r) => r.replace('"anchor 0"', '"other"')));
    const r = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`BROKEN \\(edited\\): event seq ${target.seq} \\(eventID ${target.eventId}\\) differs`));
  });

  test('a wrong pinned key fails, as a key or a fingerprint', async () => {
    const other = ecGenerateKeyPair('P-256');
    const otherPem = join(work, 'other.pem');
    writeFileSync(otherPem, spkiToPem(other.publicKeySpki));
    const r = await verify(url, '--public-key', otherPem, '--digests', digestDir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /BROKEN \(digest\): digest 1 .*is not signed by the pinned key/);
    const storeDigests = await verify(url, '--public-key', otherPem);
    assert.equal(storeDigests.code, 1, storeDigests.stdout);
    const f = await verify(url, '--fingerprint', 'ab'.repeat(32), '--digests', digestDir);
    assert.equal(f.code, 1, f.stdout);
    assert.match(f.stdout, /is not the pinned key/);
  });

  test('a store whose key and digests were replaced and re-signed by an insider passes only an unpinned verify', async () => {
    const forger = ecGenerateKeyPair('P-256');
    const key = ecPrivateKey(forger.privateKeyPkcs8, 'P-256')!;
    const forgedFingerprint = sha256(forger.publicKeySpki).toString('hex');
    const target = events.find((e) => e.record.includes('"anchor 1"'))!;
    const t = await tampered(async (s) => {
      await rewriteEvent(s, target.seq, (r) => r.replace('"anchor 1"', '"forged"'));
      const meta = (await s.sql("SELECT value FROM meta WHERE name = 'audit:digest-signing-key'"))[0]!.value as string;
      await s.sql("UPDATE meta SET value = ? WHERE name = 'audit:digest-signing-key'", [JSON.stringify({ ...JSON.parse(meta), publicKeySpki: forger.publicKeySpki.toString('base64') })]);
      const hashes = (await s.sql('SELECT hash FROM audit_events ORDER BY seq')).map((r) => r.hash as string);
      const digests = (await s.sql('SELECT digest_seq, record FROM audit_digests ORDER BY digest_seq')) as { digest_seq: number | string; record: string }[];
      let prevSignature = '';
      for (const d of digests) {
        const st = JSON.parse(d.record) as { firstEventSeq: number; lastEventSeq: number; createdAt: string };
        const covered = hashes.slice(st.firstEventSeq - 1, st.lastEventSeq);
        const record = digestStatement({ digestSeq: Number(d.digest_seq), now: Date.parse(st.createdAt), firstEventSeq: st.firstEventSeq, hashes: covered, prevSignature, fingerprint: forgedFingerprint });
        const signature = ecdsaSign(key, 'P-256', 'sha256', false, Buffer.from(record)).toString('base64');
        await s.sql('UPDATE audit_digests SET record = ?, signature = ?, last_hash = ? WHERE digest_seq = ?', [record, signature, covered.at(-1)!, Number(d.digest_seq)]);
        prevSignature = signature;
      }
    });
    const unpinned = await verify(t.url);
    assert.equal(unpinned.code, 0, unpinned.stdout + unpinned.stderr);
    assert.match(unpinned.stdout, /WARNING: no pinned key/);
    const r = await verify(t.url, '--public-key', pinned);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`BROKEN \\(digest\\): digest 1 .*is not signed by the pinned key .*it names key ${forgedFingerprint}`));
    const delivered = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
    assert.match(delivered.stdout, new RegExp(`BROKEN \\(edited\\): event seq ${target.seq} `));
  });

  test('a delivered digest that was deleted is named as a gap between digests', async () => {
    const t = await tampered(async () => undefined, (dir) => rmSync(join(dir, digestFileName(2))));
    const r = await verify(t.url, '--public-key', pinned, '--digests', t.digests);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /BROKEN \(digest\): digest 3 .*digest 2 is missing/);
  });

  test('without digests in the store, an unsigned tail older than the bound is refused even if every event is intact', async () => {
    const lastDigested = events.length - 3;
    const t = await tampered((s) => s.sql('DELETE FROM audit_digests WHERE last_event_seq > ?', [lastDigested]).then(() => undefined));
    const r = await verify(t.url, '--public-key', pinned, '--max-unsigned-age', '10ms');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /BROKEN \(unsigned\): events seq \d+–\d+ \(\d+\) are not covered by a signed digest/);
  });
});

describe('digests are made while the server runs, within the interval or the event bound', () => {
  // Read-only calls' events go through the group commit; a mutating call's event commits in the call's own
  // transaction (AuditLog.atomically). Both must count towards the bound.
  for (const [kind, call] of [
    ['read-only', (kms: KMSClient) => kms.send(new ListKeysCommand({}))],
    ['mutating', (kms: KMSClient) => kms.send(new CreateKeyCommand({}))],
  ] as const) test(`after TRENT_AUDIT_DIGEST_MAX_EVENTS ${kind} calls a digest is delivered without waiting for the interval`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'trent-digest-bound-'));
    const dataDir = join(work, 'data');
    const digestDir = join(work, 'digests');
    const server = await startServer({ dataDir, env: { TRENT_STORAGE: await e2eStorageUrl(dataDir), TRENT_AUDIT_DIGEST_DIR: digestDir, TRENT_AUDIT_DIGEST_INTERVAL: '1h', TRENT_AUDIT_DIGEST_MAX_EVENTS: '5' } });
    try {
      const kms = server.kms();
      for (let i = 0; i < 5; i++) await call(kms);
      const deadline = Date.now() + 20_000;
      while (!existsSync(join(digestDir, digestFileName(1)))) {
        assert.ok(Date.now() < deadline, `no digest after 5 ${kind} calls within 20 s (the interval is 1 h)`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const d = JSON.parse(JSON.parse(readFileSync(join(digestDir, digestFileName(1)), 'utf8')).record as string) as { lastEventSeq: number; eventHashes: string[] };
      assert.ok(d.lastEventSeq >= 5 && d.eventHashes.length === d.lastEventSeq);
    } finally {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('a single event is signed and delivered within TRENT_AUDIT_DIGEST_INTERVAL, the server still running', async () => {
    const work = mkdtempSync(join(tmpdir(), 'trent-digest-interval-'));
    const dataDir = join(work, 'data');
    const digestDir = join(work, 'digests');
    const server = await startServer({ dataDir, env: { TRENT_STORAGE: await e2eStorageUrl(dataDir), TRENT_AUDIT_DIGEST_DIR: digestDir, TRENT_AUDIT_DIGEST_INTERVAL: '100ms' } });
    try {
      await server.kms().send(new ListKeysCommand({}));
      const s = server.app.storage;
      const head = (await s.read((r) => r.audit.scan(0, 1000))).at(-1)!;
      // Only delivered files: one being written is under a temporary name (durable-file.ts) and may be partial.
      const covered = () => readdirSync(digestDir).filter((n) => !n.endsWith('.tmp')).some((n) => (JSON.parse(JSON.parse(readFileSync(join(digestDir, n), 'utf8')).record as string) as { lastEventSeq: number }).lastEventSeq >= head.seq);
      while (!existsSync(digestDir) || !covered()) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('several nodes on one store: each node delivers the whole digest sequence', () => {
  test('two nodes append to one chain; each node\'s directory verifies on its own, and both together', async () => {
    const work = mkdtempSync(join(tmpdir(), 'trent-two-nodes-'));
    const dataDir = join(work, 'data');
    const url = await e2eStorageUrl(dataDir);
    const [dirA, dirB] = [join(work, 'digests-a'), join(work, 'digests-b')];
    const a = await startServer({ dataDir, env: { TRENT_STORAGE: url, TRENT_AUDIT_DIGEST_DIR: dirA, TRENT_AUDIT_DIGEST_MAX_EVENTS: '3' } });
    const b = await startServer({ dataDir, env: { TRENT_STORAGE: url, TRENT_AUDIT_DIGEST_DIR: dirB, TRENT_AUDIT_DIGEST_MAX_EVENTS: '3' } });
    try {
      const pem = join(work, 'pinned.pem');
      writeFileSync(pem, (a.app.createdDigestKey ?? b.app.createdDigestKey)!.publicKeyPem);
      const [ka, kb] = [a.kms(), b.kms()];
      for (let i = 0; i < 8; i++) await Promise.all([ka.send(new ListKeysCommand({})), kb.send(new ListKeysCommand({}))]);
      await a.stop();
      await b.stop();
      for (const dirs of [[dirA], [dirB], [dirA, dirB]]) {
        const r = await runTrent(['audit', 'verify', '--storage', url, '--public-key', pem, ...dirs.flatMap((d) => ['--digests', d])]);
        assert.equal(r.code, 0, `${dirs.join(' ')}: ${r.stdout}${r.stderr}`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
