/**
 * AWS KMS grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
 *
 * A grant lets its grantee call the listed operations on one key, under optional encryption-context
 * constraints; src/policy/grants.ts decides whether a grant covers a request, and auth/authorizer.ts
 * reads the grants of the key on every key-scoped call, so a new grant works at once and a revoked or
 * retired one stops at the next call (Trent is strongly consistent: grant tokens need only be valid).
 *
 * Grant token: base64url(grant id bytes ‖ 32 random bytes); only its SHA-256 is stored.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { constantTimeEqual, randomBytesBuffer, sha256 } from '../crypto/primitives.ts';
import {
  AccessDeniedException, InvalidGrantTokenException, LimitExceededException, NotFoundException, TrentError, ValidationException,
} from '../errors/errors.ts';
import { type ContextValue, type GrantConstraints, isGrantOperation, mayRetireGrant } from '../policy/index.ts';
import type { GrantRecord } from '../storage/iam-repos.ts';
import type { Storage } from '../storage/storage.ts';
import { keyArn } from './arn.ts';
import type { Key } from './key-model.ts';
import type { KeyService } from './key-service.ts';
import type { PaginationMarkers } from './markers.ts';

/** AWS quotas: grants per KMS key, and grants for one grantee principal per key. */
export const MAX_GRANTS_PER_KEY = 50_000;
export const MAX_GRANTS_PER_GRANTEE_PER_KEY = 500;
const GRANT_ID = /^[0-9a-f]{64}$/;
const KEY_ONLY = { allowAlias: false } as const;
/** IAM user/role/assumed-role/root ARNs, an account id, or a service principal. */
const PRINCIPAL = /^(?:arn:aws:(?:iam|sts)::\d{12}:(?:root|user\/.+|role\/.+|assumed-role\/.+)|\d{12}|[a-z0-9.-]+\.amazonaws\.com)$/;

export interface GrantDoc {
  operations: string[];
  constraints?: GrantConstraints;
  issuingAccount: string;
  /** SHA-256 (hex) of every token issued for this grant (an idempotent CreateGrant issues another). */
  tokenHashes: string[];
}

export interface CreateGrantInput {
  keyId: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: GrantConstraints;
  name?: string;
}

export type GrantService = ReturnType<typeof createGrantService>;

function tokenFor(grantId: string): string {
  return Buffer.concat([Buffer.from(grantId, 'hex'), randomBytesBuffer(32)]).toString('base64url');
}

/** The grant id a token names, or undefined if it is not a token's syntax. */
export function grantIdOfToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{86}$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  return raw.length === 64 ? raw.subarray(0, 32).toString('hex') : undefined;
}

function sameConstraints(a: GrantConstraints | undefined, b: GrantConstraints | undefined): boolean {
  const norm = (c: GrantConstraints | undefined) => JSON.stringify({
    e: c?.encryptionContextEquals ? Object.entries(c.encryptionContextEquals).sort() : null,
    s: c?.encryptionContextSubset ? Object.entries(c.encryptionContextSubset).sort() : null,
  });
  return norm(a) === norm(b);
}

/** True when `child` restricts the encryption context at least as much as `parent` does. */
export function constraintsAtLeastAsStrict(child: GrantConstraints | undefined, parent: GrantConstraints | undefined): boolean {
  if (!parent || (!parent.encryptionContextEquals && !parent.encryptionContextSubset)) return true;
  const sameMap = (a: Record<string, string> | undefined, b: Record<string, string>) =>
    a !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  const contains = (a: Record<string, string> | undefined, b: Record<string, string>) =>
    a !== undefined && Object.entries(b).every(([k, v]) => a[k] === v);
  if (parent.encryptionContextEquals) return sameMap(child?.encryptionContextEquals, parent.encryptionContextEquals);
  const subset = parent.encryptionContextSubset!;
  return contains(child?.encryptionContextEquals, subset) || contains(child?.encryptionContextSubset, subset);
}

/**
 * AWS: the condition keys of a grant: kms:GrantConstraintType (EncryptionContextEquals /
 * EncryptionContextSubset) and, for its constraint's encryption context, kms:EncryptionContext:<key> and
 * kms:EncryptionContextKeys.
 */
function grantConstraintKeys(constraints: GrantConstraints | undefined): Record<string, ContextValue> {
  const keys: Record<string, ContextValue> = {};
  const types: string[] = [];
  let ec: Record<string, string> | undefined;
  if (constraints?.encryptionContextEquals) {
    types.push('EncryptionContextEquals');
    ec = { ...constraints.encryptionContextEquals };
  }
  if (constraints?.encryptionContextSubset) {
    types.push('EncryptionContextSubset');
    ec = { ...ec, ...constraints.encryptionContextSubset };
  }
  if (types.length > 0) keys['kms:GrantConstraintType'] = types.length === 1 ? types[0] : types;
  const names = Object.keys(ec ?? {});
  for (const n of names) keys[`kms:EncryptionContext:${n}`] = ec![n];
  if (names.length > 0) keys['kms:EncryptionContextKeys'] = names;
  return keys;
}

/**
 * AWS: kms:GrantIsForAWSResource is true only when an AWS service integrated with KMS makes the grant
 * for the caller's resource; the services Trent integrates (Secrets Manager, Parameter Store) make none.
 */
function grantIsForAwsResource(caller: Caller): Record<string, ContextValue> {
  return { 'kms:GrantIsForAWSResource': caller.viaService !== undefined };
}

export function createGrantService(deps: { storage: Storage; clock: Clock; keys: KeyService; authorizer: Authorizer; markers: PaginationMarkers }) {
  const { storage, clock, keys, authorizer, markers } = deps;

  function checkPrincipal(member: string, value: string): void {
    if (!PRINCIPAL.test(value)) {
      throw new ValidationException(`1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must be a valid principal`);
    }
  }

  async function createGrant(caller: Caller, input: CreateGrantInput): Promise<{ grantId: string; grantToken: string }> {
    const requestKeys: Record<string, ContextValue> = {
      'kms:GrantOperations': [...new Set(input.operations)],
      'kms:GranteePrincipal': input.granteePrincipal,
      ...(input.retiringPrincipal !== undefined ? { 'kms:RetiringPrincipal': input.retiringPrincipal } : {}),
      ...grantIsForAwsResource(caller),
      ...grantConstraintKeys(input.constraints),
    };
    const key = await keys.resolveKey(caller, input.keyId, { ...KEY_ONLY, action: 'CreateGrant', contextKeys: requestKeys });
    checkPrincipal('granteePrincipal', input.granteePrincipal);
    if (input.retiringPrincipal !== undefined) checkPrincipal('retiringPrincipal', input.retiringPrincipal);
    if (input.operations.length === 0) throw new ValidationException('Operations must not be empty.');
    for (const op of input.operations) {
      if (!isGrantOperation(op)) throw new ValidationException(`1 validation error detected: Value '${op}' at 'operations' failed to satisfy enum value set`);
    }
    const operations = [...new Set(input.operations)];
    await requireNoWidening(caller, key, operations, input.constraints, requestKeys);
    const existing = await storage.read((r) => r.grants.listForKey(key.scope, key.keyId));
    // AWS: CreateGrant with the Name of an existing grant and the same parameters returns that grant.
    if (input.name !== undefined) {
      const same = existing.find((g) => {
        const d = g.doc as unknown as GrantDoc;
        return g.name === input.name && g.granteePrincipal === input.granteePrincipal &&
          g.retiringPrincipal === (input.retiringPrincipal ?? null) &&
          JSON.stringify([...d.operations].sort()) === JSON.stringify([...operations].sort()) &&
          sameConstraints(d.constraints, input.constraints);
      });
      if (same) return { grantId: same.grantId, grantToken: await reissueToken(same) };
    }
    if (existing.length >= MAX_GRANTS_PER_KEY) throw new LimitExceededException(`Grants per key limit of ${MAX_GRANTS_PER_KEY} exceeded.`);
    if (existing.filter((g) => g.granteePrincipal === input.granteePrincipal).length >= MAX_GRANTS_PER_GRANTEE_PER_KEY) {
      throw new LimitExceededException(`Grants for a principal per key limit of ${MAX_GRANTS_PER_GRANTEE_PER_KEY} exceeded.`);
    }
    const grantId = randomBytesBuffer(32).toString('hex');
    const grantToken = tokenFor(grantId);
    const doc: GrantDoc = {
      operations,
      ...(input.constraints ? { constraints: input.constraints } : {}),
      issuingAccount: `arn:aws:iam::${caller.accountId}:root`,
      tokenHashes: [sha256(grantToken).toString('hex')],
    };
    const record: GrantRecord = {
      accountId: key.scope.accountId, region: key.scope.region, keyId: key.keyId, grantId,
      granteePrincipal: input.granteePrincipal, retiringPrincipal: input.retiringPrincipal ?? null,
      name: input.name ?? null, createdAt: clock.now(), doc: doc as unknown as Record<string, unknown>,
    };
    await storage.transaction((tx) => tx.grants.insert(record));
    return { grantId, grantToken };
  }

  /**
   * AWS: a principal allowed CreateGrant only through a grant may create grants for a subset of that
   * grant's operations, with constraints at least as strict — grants never widen what they allow.
   */
  async function requireNoWidening(
    caller: Caller, key: Key, operations: string[], constraints: GrantConstraints | undefined, contextKeys: Record<string, ContextValue>,
  ): Promise<void> {
    if (await authorizer.isAllowed(caller, 'kms:CreateGrant', { key, ignoreGrants: true, contextKeys })) return;
    const { principal } = await authorizer.principalOf(caller);
    const names = new Set([principal.arn, ...(principal.roleArn ? [principal.roleArn] : [])]);
    const parents = (await storage.read((r) => r.grants.listForKey(key.scope, key.keyId)))
      .filter((g) => names.has(g.granteePrincipal))
      .map((g) => g.doc as unknown as GrantDoc)
      .filter((d) => d.operations.includes('CreateGrant'));
    const narrowEnough = (parent: GrantDoc) =>
      operations.every((op) => parent.operations.includes(op)) && constraintsAtLeastAsStrict(constraints, parent.constraints);
    if (!parents.some(narrowEnough)) {
      throw new AccessDeniedException(
        `User: ${caller.principalArn} is not authorized to perform: kms:CreateGrant on resource: ${key.arn} with operations or constraints beyond its own grant`,
      );
    }
  }

  /** A repeated idempotent CreateGrant gets a new token for the same grant; earlier tokens stay valid. */
  async function reissueToken(g: GrantRecord): Promise<string> {
    const token = tokenFor(g.grantId);
    const prev = g.doc as unknown as GrantDoc;
    const doc: GrantDoc = { ...prev, tokenHashes: [...prev.tokenHashes, sha256(token).toString('hex')] };
    await storage.transaction(async (tx) => {
      await tx.grants.delete(g.grantId);
      await tx.grants.insert({ ...g, doc: doc as unknown as Record<string, unknown> });
    });
    return token;
  }

  async function listGrants(
    caller: Caller,
    input: { keyId: string; limit: number; marker?: string; grantId?: string; granteePrincipal?: string },
  ): Promise<{ key: Key; grants: GrantRecord[]; nextMarker?: string }> {
    const key = await keys.resolveKey(caller, input.keyId, { ...KEY_ONLY, action: 'ListGrants', contextKeys: grantIsForAwsResource(caller) });
    const after = markers.decode('ListGrants', input.marker);
    const all = (await storage.read((r) => r.grants.listForKey(key.scope, key.keyId)))
      .filter((g) => (after === undefined || g.grantId > after) &&
        (input.grantId === undefined || g.grantId === input.grantId) &&
        (input.granteePrincipal === undefined || g.granteePrincipal === input.granteePrincipal));
    const grants = all.slice(0, input.limit);
    return { key, grants, ...(all.length > input.limit ? { nextMarker: markers.encode('ListGrants', grants[grants.length - 1]!.grantId) } : {}) };
  }

  /** AWS: ListRetirableGrants — identity-policy only (authorised at the edge as kms:ListRetirableGrants). */
  async function listRetirableGrants(
    caller: Caller,
    input: { retiringPrincipal: string; limit: number; marker?: string },
  ): Promise<{ grants: GrantRecord[]; nextMarker?: string }> {
    const after = markers.decode('ListRetirableGrants', input.marker);
    // AWS (ListRetirableGrants, "Cross-account use"): "You must specify a principal in your AWS account" —
    // another account's retiring principal would list that account's grants (keys, grantees, constraints).
    if (accountOfPrincipal(input.retiringPrincipal) !== caller.accountId) {
      throw new AccessDeniedException(
        `User: ${caller.principalArn} is not authorized to perform: kms:ListRetirableGrants for a retiring principal of another account`,
      );
    }
    const all = (await storage.read((r) => r.grants.listByRetiringPrincipal(input.retiringPrincipal)))
      .filter((g) => g.region === caller.region && (after === undefined || g.grantId > after));
    const grants = all.slice(0, input.limit);
    return { grants, ...(all.length > input.limit ? { nextMarker: markers.encode('ListRetirableGrants', grants[grants.length - 1]!.grantId) } : {}) };
  }

  async function grantByToken(token: string): Promise<GrantRecord> {
    const grantId = grantIdOfToken(token);
    const g = grantId ? await storage.read((r) => r.grants.get(grantId)) : undefined;
    const given = sha256(token);
    const hashes = (g?.doc as unknown as GrantDoc | undefined)?.tokenHashes ?? [];
    if (!g || !hashes.some((h) => constantTimeEqual(Buffer.from(h, 'hex'), given))) throw new InvalidGrantTokenException('Invalid grant token.');
    return g;
  }

  /**
   * AWS: every GrantTokens member must be a valid token. Trent is strongly consistent, so a valid token
   * adds nothing the stored grant does not already give; an invalid one is InvalidGrantTokenException.
   */
  async function validateGrantTokens(tokens: readonly string[] | undefined): Promise<void> {
    for (const t of tokens ?? []) await grantByToken(t);
  }

  /**
   * AWS: RetireGrant by GrantToken, or by KeyId + GrantId. Allowed to the grant's retiring principal,
   * its grantee when the grant lists RetireGrant, the key account's root, or whoever the key's policies
   * allow kms:RetireGrant.
   */
  async function retireGrant(caller: Caller, input: { grantToken?: string; keyId?: string; grantId?: string }): Promise<void> {
    let grant: GrantRecord;
    let key: Key;
    if (input.grantToken !== undefined) {
      grant = await grantByToken(input.grantToken);
      const record = await storage.read((r) => r.keys.get(grant, grant.keyId));
      if (!record) throw new NotFoundException('Grant not found');
      key = await keys.resolveKey(caller, keyArn(grant, grant.keyId), { ...KEY_ONLY, action: 'RetireGrant', authorize: false });
    } else {
      if (input.keyId === undefined || input.grantId === undefined) throw new ValidationException('Either GrantToken or both KeyId and GrantId are required.');
      key = await keys.resolveKey(caller, input.keyId, { ...KEY_ONLY, action: 'RetireGrant', authorize: false });
      const g = GRANT_ID.test(input.grantId) ? await storage.read((r) => r.grants.get(input.grantId!)) : undefined;
      if (!g || g.keyId !== key.keyId || g.accountId !== key.scope.accountId) {
        // Another account's caller learns nothing of that account's keys from the answer.
        if (key.scope.accountId !== caller.accountId) throw retireDenied(caller, key);
        throw new NotFoundException(`Grant ID ${input.grantId} not found`);
      }
      grant = g;
    }
    const { principal } = await authorizer.principalOf(caller);
    const doc = grant.doc as unknown as GrantDoc;
    const byGrant = mayRetireGrant(
      { keyArn: key.arn, granteePrincipal: grant.granteePrincipal, operations: doc.operations,
        ...(grant.retiringPrincipal !== null ? { retiringPrincipal: grant.retiringPrincipal } : {}) },
      principal, key.scope.accountId,
    );
    // Policies only: a grant listing RetireGrant lets its grantee retire that grant (mayRetireGrant), not
    // the key's other grants (AWS: "Permission to retire a grant is determined primarily by the grant").
    if (!byGrant && !(await authorizer.isAllowed(caller, 'kms:RetireGrant', { key, ignoreGrants: true, contextKeys: grantConstraintKeys(doc.constraints) }))) {
      throw retireDenied(caller, key);
    }
    await storage.transaction((tx) => tx.grants.delete(grant.grantId));
  }

  function retireDenied(caller: Caller, key: Key): TrentError {
    return new AccessDeniedException(
      `User: ${caller.principalArn} is not authorized to perform: kms:RetireGrant on resource: ${key.arn} because no resource-based policy allows the kms:RetireGrant action`,
    );
  }

  /** AWS: RevokeGrant — authorised by kms:RevokeGrant on the key; takes effect on the next call. */
  async function revokeGrant(caller: Caller, input: { keyId: string; grantId: string }): Promise<void> {
    const key = await keys.resolveKey(caller, input.keyId, { ...KEY_ONLY, action: 'RevokeGrant', contextKeys: grantIsForAwsResource(caller) });
    const g = GRANT_ID.test(input.grantId) ? await storage.read((r) => r.grants.get(input.grantId)) : undefined;
    if (!g || g.keyId !== key.keyId || g.accountId !== key.scope.accountId) throw new NotFoundException(`Grant ID ${input.grantId} not found`);
    await storage.transaction((tx) => tx.grants.delete(g.grantId));
  }

  return { createGrant, listGrants, listRetirableGrants, retireGrant, revokeGrant, validateGrantTokens };
}

/** The account of a principal named by ARN (user, role, assumed role, root) or by a bare account id. */
function accountOfPrincipal(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const parts = principal.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && /^\d{12}$/.test(parts[4]!) ? parts[4] : undefined;
}
