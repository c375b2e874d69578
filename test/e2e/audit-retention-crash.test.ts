/**
 * Retention is crash-safe: a `trent audit prune` killed with SIGKILL mid-way prunes nothing, and the next
 * pass redoes the export and then prunes; a partial export file of the same name is never taken as done.
 *
 * How the kill lands mid-way without timing: the test holds the store's write lock (SQLite: a BEGIN
 * IMMEDIATE transaction; PostgreSQL: LOCK TABLE audit_events IN SHARE MODE, which lets reads through and
 * blocks the DELETE), so the child can read and export but not prune. It is killed as soon as its export
 * file (temporary or final) appears, wherever it then is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import pg from 'pg';
import { exportLine } from '../../src/audit/retention.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { AuditEventRow } from '../../src/storage/audit-repo.ts';
import { e2eStorageUrl, startServer } from './harness.ts';
import { runTrent, spawnTrent } from './trent-cli.ts';

async function events(url: string): Promise<AuditEventRow[]> {
  const s = await openStorage(url);
  try {
    return await s.read((r) => r.audit.scan(0, 100_000));
  } finally {
    await s.close();
  }
}

/** Holds the store's write lock until the returned function is called (reads still go through). */
async function holdWriteLock(url: string): Promise<() => Promise<void>> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    db.exec('BEGIN IMMEDIATE');
    return async () => {
      db.exec('ROLLBACK');
      db.close();
    };
  }
  const u = new URL(url);
  const schema = u.searchParams.get('schema')!;
  u.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${pg.escapeIdentifier(schema)}.audit_events IN SHARE MODE`);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}

/** Two server runs: old events, then (after the cut-off) new ones; each run ends with a signed digest. */
async function deployment(): Promise<{ url: string; dataDir: string; cutoff: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trent-retention-'));
  const url = await e2eStorageUrl(dataDir);
  const env = { TRENT_STORAGE: url };
  let server = await startServer({ dataDir, env });
  const kms = server.kms();
  for (let i = 0; i < 40; i++) await kms.send(new CreateKeyCommand({ Description: `old ${i}` }));
  await server.stop();
  const newest = (await events(url)).at(-1)!.eventTime;
  while (Date.now() <= newest) await new Promise((r) => setImmediate(r));
  const cutoff = newest + 1;
  server = await startServer({ dataDir, env });
  await server.kms().send(new ListKeysCommand({}));
  await server.stop();
  return { url, dataDir, cutoff };
}

test('a prune killed with SIGKILL mid-way prunes nothing; the next pass redoes the export, verifies it, then prunes', async () => {
  const { url, dataDir, cutoff } = await deployment();
  const before = await events(url);
  const old = before.filter((e) => e.eventTime < cutoff);
  assert.ok(old.length >= 40 && old.length < before.length);
  const exportDir = join(dataDir, 'exports');
  const args = ['audit', 'prune', '--storage', url, '--before', new Date(cutoff).toISOString(), '--export-dir', exportDir];

  const release = await holdWriteLock(url);
  const { child, done } = spawnTrent(args);
  const started = () => existsSync(exportDir) && readdirSync(exportDir).some((n) => n.startsWith('trent-audit-'));
  while (!started()) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  const killed = await done;
  await release();
  assert.equal(killed.signal, 'SIGKILL', `the prune ended before it was killed: ${killed.stdout}${killed.stderr}`);
  assert.deepEqual((await events(url)).map((e) => e.hash), before.map((e) => e.hash), 'nothing was pruned');

  const again = await runTrent(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`pruned ${old.length} events`));
  const file = join(exportDir, `trent-audit-1-${old.length}.jsonl`);
  assert.equal(readFileSync(file, 'utf8'), old.map(exportLine).join(''));
  assert.deepEqual(readdirSync(exportDir), [`trent-audit-1-${old.length}.jsonl`], 'no temporary file is left');
  const after = await events(url);
  assert.deepEqual(after.map((e) => e.seq), before.filter((e) => e.eventTime >= cutoff).map((e) => e.seq));

  const pem = join(dataDir, 'digest-key.pem');
  writeFileSync(pem, (await runTrent(['audit', 'public-key', '--storage', url])).stdout);
  const verified = await runTrent(['audit', 'verify', '--storage', url, '--public-key', pem]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
});

test('an export file left partial by a crashed writer is never taken as done: it is rewritten before anything is pruned', async () => {
  const { url, dataDir, cutoff } = await deployment();
  const before = await events(url);
  const old = before.filter((e) => e.eventTime < cutoff);
  const exportDir = join(dataDir, 'exports');
  const args = ['audit', 'prune', '--storage', url, '--before', new Date(cutoff).toISOString(), '--export-dir', exportDir];
  const file = join(exportDir, `trent-audit-1-${old.length}.jsonl`);
  const full = old.map(exportLine).join('');
  // What a writer that died mid-file leaves (the name an earlier Trent wrote into directly), and a temporary.
  mkdirSync(exportDir, { recursive: true });
  writeFileSync(file, full.slice(0, Math.floor(full.length / 2)));
  writeFileSync(`${file}.partial`, full.slice(0, 100));

  const r = await runTrent(args);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(file, 'utf8'), full);
  assert.deepEqual(readdirSync(exportDir), [`trent-audit-1-${old.length}.jsonl`]);
  assert.deepEqual((await events(url)).map((e) => e.seq), before.filter((e) => e.eventTime >= cutoff).map((e) => e.seq));
});
