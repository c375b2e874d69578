/**
 * Access keys: Trent keeps them itself, the secret sealed by the barrier like key material.
 * The administrator is created at first start (printed once), or given by TRENT_ADMIN_ACCESS_KEY_ID /
 * TRENT_ADMIN_SECRET_ACCESS_KEY, in which case that pair is the administrator at every start.
 */
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { constantTimeEqual, randomBytesBuffer, sha256 } from '../crypto/primitives.ts';
import { ExpiredTokenException, UnrecognizedClientException } from '../errors/errors.ts';
import { barrierAad, unsealFresh, type Barrier } from '../seal/barrier.ts';
import type { AccessKeyRecord, Storage } from '../storage/storage.ts';
import type { Clock } from '../clock.ts';

export interface ResolvedCredential {
  record: AccessKeyRecord;
  /** The secret access key. A JavaScript string (the SigV4 library needs one): it cannot be zeroed. */
  secretAccessKey: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function newAccessKeyId(prefix = 'AKIA'): string {
  const bytes = randomBytesBuffer(16);
  let out = prefix;
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

export function newSecretAccessKey(): string {
  return randomBytesBuffer(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

function secretAad(accessKeyId: string): Buffer {
  return barrierAad('auth/access-key-secret', accessKeyId);
}

export type CredentialStore = ReturnType<typeof createCredentialStore>;

/**
 * How often an access key's last use is written, at most, per key and node: IAM GetAccessKeyLastUsed is
 * approximate on AWS too ("within the previous 4 hours"), and a write on every request would make every
 * signed call a database write.
 */
export const LAST_USED_INTERVAL_MS = 60_000;

/** IAM GetAccessKeyLastUsed: when, with which service and in which region a key last signed a request. */
export interface AccessKeyLastUsed { date: number; service: string; region: string }

/** Stored in the meta repository, beside the key's row rather than in it: a late write never races a status change. */
const lastUsedName = (accessKeyId: string) => `iam/access-key-last-used/${accessKeyId}`;

/** How long a resolved access key is trusted without reading storage again (the ≤ 1 s coherence bound). */
export const CREDENTIAL_CACHE_TTL_MS = 1_000;

export function createCredentialStore(deps: { storage: Storage; barrier: Barrier; clock: Clock; cacheSize?: number }) {
  const { storage, barrier, clock } = deps;
  // Unsealing on every request would cost an AES-GCM open per call; the secrets are cached briefly.
  // The TTL is the coherence bound across nodes sharing one database: an access key deactivated or
  // replaced through another node is refused here within CREDENTIAL_CACHE_TTL_MS (docs/postgres.md).
  const cache = new LRUCache<string, ResolvedCredential>({ max: deps.cacheSize ?? 1000, ttl: CREDENTIAL_CACHE_TTL_MS });
  // When this node last wrote each key's last use (domain time).
  const lastNoted = new LRUCache<string, number>({ max: 10_000 });
  // Bumped by every local status change: a resolve that overlapped one does not cache what it read.
  let writes = 0;

  function seal(accessKeyId: string, secret: string): Buffer {
    const raw = Buffer.from(secret, 'utf8');
    try {
      return barrier.seal(raw, secretAad(accessKeyId));
    } finally {
      raw.fill(0);
    }
  }

  // Reads under way, by access key: the requests that miss the cache together (a burst after the entry
  // expired) share one read and one unseal instead of each doing both.
  const inFlight = new Map<string, { started: number; read: Promise<ResolvedCredential | undefined> }>();

  /**
   * The access key's record and secret; undefined if there is no such key. A cached entry is returned as
   * it is, not in a promise: the edge then finishes authentication without waiting a turn (authenticate.ts).
   * A miss joins a read of the same key already under way if that read began within
   * CREDENTIAL_CACHE_TTL_MS — its answer is then no older than a cached entry could be, so the bound holds
   * for the requests that join it too — and no local change of the key came since (changing() drops it).
   * A failed read is neither cached nor kept: the next lookup reads again.
   */
  function resolve(accessKeyId: string): ResolvedCredential | Promise<ResolvedCredential | undefined> {
    const hit = cache.get(accessKeyId);
    if (hit) return hit;
    const now = performance.now();
    const running = inFlight.get(accessKeyId);
    if (running && now - running.started < CREDENTIAL_CACHE_TTL_MS) return running.read;
    const entry = { started: now, read: read(accessKeyId, now) };
    inFlight.set(accessKeyId, entry);
    const done = () => {
      if (inFlight.get(accessKeyId) === entry) inFlight.delete(accessKeyId);
    };
    entry.read.then(done, done);
    return entry.read;
  }

  async function read(accessKeyId: string, started: number): Promise<ResolvedCredential | undefined> {
    // The entry's life is counted from when the read began, not from when it was stored: the read and
    // the unseal take time, and a change committed meanwhile elsewhere must still be seen within the TTL.
    const generation = writes;
    const record = await storage.read((r) => r.accessKeys.get(accessKeyId));
    if (!record) return undefined;
    const secretBytes = await unsealFresh(barrier, record.sealedSecret, secretAad(accessKeyId));
    const resolved = { record, secretAccessKey: secretBytes.expose().toString('utf8') };
    secretBytes.zeroize();
    const ttl = Math.floor(CREDENTIAL_CACHE_TTL_MS - (performance.now() - started));
    // A write through this node while the read ran (setStatus) must not be undone by storing what was read.
    if (ttl > 0 && generation === writes) cache.set(accessKeyId, resolved, { ttl });
    return resolved;
  }

  /**
   * Runs a change of one access key: this node's cached copy and any read under way are dropped before and
   * after it and `writes` moves on both times, so a lookup that raced the change cannot store the copy from
   * before it, and no lookup after it joins a read that began before it.
   */
  async function changing<T>(accessKeyId: string, change: () => Promise<T>): Promise<T> {
    writes++;
    cache.delete(accessKeyId);
    inFlight.delete(accessKeyId);
    try {
      return await change();
    } finally {
      writes++;
      cache.delete(accessKeyId);
      inFlight.delete(accessKeyId);
    }
  }

  /**
   * IAM UpdateAccessKey: marks a key Active or Inactive. This node drops its cached copy at once; other
   * nodes see the change within CREDENTIAL_CACHE_TTL_MS. Returns false when no such key exists.
   */
  async function setStatus(accessKeyId: string, principalArn: string, status: AccessKeyRecord['status']): Promise<boolean> {
    return changing(accessKeyId, () => storage.transaction(async (tx) => {
      const record = await tx.accessKeys.get(accessKeyId);
      if (!record || record.principalArn !== principalArn) return false;
      if (record.status !== status) await tx.accessKeys.upsert({ ...record, status });
      return true;
    }));
  }

  /**
   * IAM DeleteAccessKey: removes a principal's key. Like setStatus, this node forgets it at once, every
   * other node within CREDENTIAL_CACHE_TTL_MS. Returns false when the principal has no such key.
   */
  async function remove(accessKeyId: string, principalArn: string): Promise<boolean> {
    return changing(accessKeyId, () => storage.transaction(async (tx) => {
      const record = await tx.accessKeys.get(accessKeyId);
      if (!record || record.principalArn !== principalArn) return false;
      return tx.accessKeys.delete(accessKeyId);
    }));
  }

  /** A principal's long-term keys (IAM ListAccessKeys; temporary ASIA… keys are not listed, as in AWS). */
  async function listFor(principalArn: string): Promise<AccessKeyRecord[]> {
    return (await storage.read((r) => r.accessKeys.listForPrincipal(principalArn))).filter((k) => k.expiresAt === null);
  }

  /** Stores a new access key for a principal. */
  async function create(input: {
    accountId: string;
    principalArn: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    expiresAt?: number | null;
    doc?: Record<string, unknown>;
  }): Promise<{ accessKeyId: string; secretAccessKey: string; createdAt: number }> {
    const accessKeyId = input.accessKeyId ?? newAccessKeyId();
    const secretAccessKey = input.secretAccessKey ?? newSecretAccessKey();
    const createdAt = clock.now();
    await storage.transaction((tx) =>
      tx.accessKeys.insert({
        accessKeyId,
        accountId: input.accountId,
        principalArn: input.principalArn,
        sealedSecret: seal(accessKeyId, secretAccessKey),
        status: 'Active',
        createdAt,
        expiresAt: input.expiresAt ?? null,
        doc: input.doc ?? {},
      }),
    );
    return { accessKeyId, secretAccessKey, createdAt };
  }

  /**
   * Ensures an administrator exists. With a configured pair, that pair is written (replacing a stored
   * one of the same id). Without one, a new pair is created only when no access key exists yet, and
   * returned so the caller can print it once.
   */
  async function bootstrapAdmin(accountId: string, configured?: { accessKeyId: string; secretAccessKey: string }) {
    const principalArn = `arn:aws:iam::${accountId}:user/admin`;
    const doc = { userName: 'admin', administrator: true };
    if (configured) {
      // A replaced secret, like a status change: no lookup that raced it keeps the one from before.
      await changing(configured.accessKeyId, () => storage.transaction((tx) =>
        tx.accessKeys.upsert({
          accessKeyId: configured.accessKeyId,
          accountId,
          principalArn,
          sealedSecret: seal(configured.accessKeyId, configured.secretAccessKey),
          status: 'Active',
          createdAt: clock.now(),
          expiresAt: null,
          doc,
        }),
      ));
      return { created: false as const };
    }
    if ((await storage.read((r) => r.accessKeys.count())) > 0) return { created: false as const };
    const pair = await create({ accountId, principalArn, doc });
    return { created: true as const, ...pair };
  }

  /**
   * Temporary credentials (AssumeRole): the request must carry X-Amz-Security-Token whose SHA-256 matches
   * the stored one (constant-time), and the key must not have expired in domain time (the app clock, so
   * tests can advance it). A long-term key presented with a session token is refused like a wrong token.
   * AWS: an expired session is ExpiredTokenException; a wrong token UnrecognizedClientException.
   */
  function checkSession(record: AccessKeyRecord, sessionToken: string | undefined): void {
    const stored = typeof record.doc.sessionTokenHash === 'string' ? Buffer.from(record.doc.sessionTokenHash, 'hex') : undefined;
    if (stored !== undefined || sessionToken !== undefined) {
      const given = sha256(sessionToken ?? '');
      if (stored === undefined || sessionToken === undefined || !constantTimeEqual(stored, given)) {
        throw new UnrecognizedClientException('The security token included in the request is invalid.');
      }
    }
    if (record.expiresAt !== null && record.expiresAt <= clock.now()) {
      throw new ExpiredTokenException('The security token included in the request is expired');
    }
  }

  /**
   * Notes that a long-term key authenticated a request. At most once per LAST_USED_INTERVAL_MS per key on
   * this node, asynchronously, and never fails the request: a lost race or a storage error only leaves an
   * older date. Temporary (ASIA…) keys are not tracked, as on AWS.
   */
  function noteUse(record: AccessKeyRecord, service: string, region: string): void {
    if (record.expiresAt !== null) return;
    const now = clock.now();
    const prev = lastNoted.get(record.accessKeyId);
    if (prev !== undefined && now - prev < LAST_USED_INTERVAL_MS && now >= prev) return;
    lastNoted.set(record.accessKeyId, now);
    const value = JSON.stringify({ date: now, service, region } satisfies AccessKeyLastUsed);
    const name = lastUsedName(record.accessKeyId);
    void storage.transaction(async (tx) => {
      const stored = await tx.meta.get(name);
      if (stored === undefined) await tx.meta.putIfAbsent(name, value);
      else await tx.meta.compareAndSet(name, stored, value);
    }).catch(() => undefined);
  }

  /** The key's last recorded use; undefined before its first. */
  async function lastUsed(accessKeyId: string): Promise<AccessKeyLastUsed | undefined> {
    const stored = await storage.read((r) => r.meta.get(lastUsedName(accessKeyId)));
    return stored === undefined ? undefined : (JSON.parse(stored) as AccessKeyLastUsed);
  }

  /**
   * Drops every cached secret (the node is sealing). They are JS strings: dropped, not zeroed. A read under
   * way is forgotten too, and does not cache what it unsealed.
   */
  function forget(): void {
    writes++;
    cache.clear();
    inFlight.clear();
  }

  return { resolve, create, setStatus, remove, listFor, bootstrapAdmin, checkSession, forget, noteUse, lastUsed };
}
