/**
 * Secrets Manager semantics, knowing nothing of HTTP. Values are envelope-encrypted through the KMS
 * service: each version gets its own data key from GenerateDataKey under the secret's KMS key, with the
 * encryption context {SecretARN, SecretVersionId} (as AWS does), and the value is sealed with AES-256-GCM
 * (crypto/aead.ts, AAD = ARN + version id). Storage sees only the encrypted data key and the sealed value.
 *
 * Concurrency: every change of a secret (labels, versions, metadata) is one compare-and-set of the
 * secret row's revision; a lost race re-reads and re-applies. KMS calls never run inside a storage
 * transaction (the SQLite adapter serialises transactions, and KMS reads storage).
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { anyResource } from '../auth/service-access.ts';
import type { Clock } from '../clock.ts';
import { DAY_MS } from '../clock.ts';
import { aeadOpen, aeadSeal, AeadOpenError } from '../crypto/aead.ts';
import { constantTimeEqual } from '../crypto/primitives.ts';
import { AccessDeniedException, TrentError, ValidationException } from '../errors/errors.ts';
import type { AliasService } from '../kms/alias-service.ts';
import type { KeyService } from '../kms/key-service.ts';
import type { PaginationMarkers } from '../kms/markers.ts';
import type { SecretRecord } from '../storage/secret-repo.ts';
import { DuplicateError, type Scope, type Storage } from '../storage/storage.ts';
import {
  DecryptionFailure,
  EncryptionFailure,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  markedForDeletion,
  notFound,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsLimitExceededException,
  PublicPolicyException,
  replicationNotSupported,
} from './errors.ts';
import { grantsPublicAccess, parsePolicy, type PolicyDocument } from '../policy/index.ts';
import { createSecretCheck, SECRET_ACCESS, secretResource, type SecretAccess } from './access-rules.ts';
import { secretValueOf, type SecretsManagerRequests as Requests } from './requests.ts';
import { parseSecretArn, randomArnSuffix, secretArn } from './secret-arn.ts';
import { nextRotation, validateRules, type RotationRules } from './schedule.ts';
import { claimScheduled, holdsClaim, liveClaim, renewClaim, type ScheduledClaim } from './rotation-claim.ts';
import {
  attachLabel,
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  currentVersion,
  dueAtOf,
  makeCurrent,
  removeLabel,
  startPendingVersion,
  startOfUtcDay,
  versionsNewestFirst,
  versionsToPrune,
  versionWithStage,
  type SecretDoc,
  type Tag,
} from './secret-model.ts';

export interface SecretServiceDeps {
  storage: Storage;
  clock: Clock;
  keys: KeyService;
  aliases: AliasService;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
  /** Decides each request on the secret it names (access-rules.ts), where the secret is resolved. */
  authorizer: Pick<Authorizer, 'authorizeResource'>;
}

export type SecretValue = { kind: 'string'; text: string } | { kind: 'binary'; bytes: Buffer };

export interface Secret {
  scope: Scope;
  name: string;
  arn: string;
  revision: number;
  doc: SecretDoc;
}

export interface ListFilter {
  Key: string;
  Values: string[];
}

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;
const MAX_TAGS = 50;
const MAX_STAGES_PER_VERSION = 20;
/** AWS: PutResourcePolicy ResourcePolicy is 1–20480 characters. */
const MAX_RESOURCE_POLICY_LENGTH = 20480;

class LostRace extends Error {}

function toSecret(r: SecretRecord): Secret {
  return { scope: { accountId: r.accountId, region: r.region }, name: r.name, arn: r.arn, revision: r.revision, doc: r.doc as unknown as SecretDoc };
}

function cloneDoc(doc: SecretDoc): SecretDoc {
  return structuredClone(doc);
}

function valueBytes(v: SecretValue): Buffer {
  return v.kind === 'string' ? Buffer.from(v.text, 'utf8') : v.bytes;
}

function versionAad(arn: string, versionId: string): Buffer {
  return Buffer.from(`trent/secretsmanager/v1\0${arn}\0${versionId}`, 'utf8');
}

/** AWS: secret names are 1–512 characters of ASCII letters, digits and /_+=.@- (recorded ValidationException). */
export function checkName(name: string): void {
  if (name.length < 1 || name.length > 512 || !NAME_PATTERN.test(name)) {
    throw new ValidationException('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
}

export type SecretService = ReturnType<typeof createSecretService>;

/** Whether a call authorizes its caller: a request does; a step of the service's own (a rotation's) does not. */
export interface Authorization {
  authorize?: boolean;
}

export function createSecretService({ storage, clock, keys, aliases, markers, authorizer }: SecretServiceDeps) {
  /**
   * SecretId: a name, a full ARN, or a partial ARN (without the 6-character suffix). An ARN may name a
   * secret of another account in the caller's region (AWS: cross-account access takes the ARN); whether
   * the caller may touch it is decided where the secret is resolved (access-rules.ts).
   */
  async function find(caller: Caller, secretId: string): Promise<Secret | undefined> {
    const own = callerScope(caller);
    if (secretId.startsWith('arn:')) {
      const parts = parseSecretArn(secretId);
      if (!parts || parts.region !== own.region) return undefined;
      const scope: Scope = { accountId: parts.accountId, region: own.region };
      if (parts.full) {
        const name = parts.full.name;
        const full = await storage.read((r) => r.secrets.get(scope, name));
        if (full && full.arn === secretId) return toSecret(full);
      }
      const partial = await storage.read((r) => r.secrets.get(scope, parts.partialName));
      return partial && toSecret(partial);
    }
    const r = await storage.read((repos) => repos.secrets.get(own, secretId));
    return r && toSecret(r);
  }

  /**
   * The secret a SecretId names, as found (undefined: none), once the caller is authorized for `access` on
   * it: AWS decides before it says whether the secret exists (access-rules.ts secretResource).
   */
  async function findAuthorized(caller: Caller, secretId: string, access: SecretAccess): Promise<Secret | undefined> {
    const s = await find(caller, secretId);
    const resource = secretResource(caller, secretId, s, access.requestKeys);
    for (const action of access.actions) await authorizer.authorizeResource(caller, action, resource);
    return s;
  }

  /** The secret as found, if there is one and (unless allowDeleted) it is not scheduled for deletion. */
  function usable(s: Secret | undefined, opts: { allowDeleted?: boolean }): Secret {
    if (!s) throw notFound();
    if (!opts.allowDeleted && s.doc.deletedAt !== undefined) throw markedForDeletion();
    return s;
  }

  /** The secret a SecretId names; with `access`, the caller is authorized on it first. */
  async function resolve(caller: Caller, secretId: string, opts: { allowDeleted?: boolean; access?: SecretAccess } = {}): Promise<Secret> {
    return usable(opts.access ? await findAuthorized(caller, secretId, opts.access) : await find(caller, secretId), opts);
  }

  /**
   * Applies `change` to a fresh copy of the secret's doc and writes it with compare-and-set, retrying on
   * a lost race. `change` may return extra writes (version rows) to commit in the same transaction.
   */
  async function mutate<T>(
    caller: Caller,
    secretId: string,
    change: (doc: SecretDoc, s: Secret) => { result: T; write?: boolean; extra?: Parameters<Storage['transaction']>[0] },
    opts: { allowDeleted?: boolean; access?: SecretAccess } = {},
  ): Promise<T> {
    for (let attempt = 0; attempt < 32; attempt++) {
      // Back off a little, with jitter, after a lost race so a burst of writers spreads out.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
      // A request is authorized once, on the first read; a retry re-reads the secret only.
      const s = await resolve(caller, secretId, attempt === 0 ? opts : { allowDeleted: opts.allowDeleted });
      const doc = cloneDoc(s.doc);
      const { result, write = true, extra } = change(doc, s);
      if (!write) return result;
      const record: SecretRecord = { ...s.scope, name: s.name, arn: s.arn, createdAt: s.doc.createdAt, dueAt: dueAtOf(doc), revision: s.revision, doc: doc as unknown as Record<string, unknown> };
      try {
        await storage.transaction(async (tx) => {
          if (extra) await extra(tx);
          if (!(await tx.secrets.update(record, s.revision))) throw new LostRace();
        });
        return result;
      } catch (err) {
        if (!(err instanceof LostRace)) throw err;
      }
    }
    throw new TrentError('InternalServiceError', 'The secret is being changed concurrently. Retry the request.', 'unavailable');
  }

  async function seal(caller: Caller, kmsKey: string, arn: string, versionId: string, value: SecretValue) {
    let dk: Awaited<ReturnType<KeyService['generateDataKey']>>;
    try {
      dk = await keys.generateDataKey(
        caller,
        { keyId: kmsKey, keySpec: 'AES_256', encryptionContext: { SecretARN: arn, SecretVersionId: versionId } },
        'GenerateDataKey',
      );
    } catch (err) {
      if (err instanceof TrentError && err.code !== 'AccessDeniedException' && err.fault === 'client') {
        throw new EncryptionFailure(`Secrets Manager can't encrypt the secret value with the KMS key ${kmsKey}: ${err.message}`);
      }
      throw err;
    }
    try {
      return { kmsKeyArn: dk.key.arn, encryptedDataKey: dk.ciphertext, sealedValue: aeadSeal(dk.plaintext, valueBytes(value), versionAad(arn, versionId)) };
    } finally {
      dk.plaintext.fill(0);
    }
  }

  async function open(caller: Caller, s: Secret, versionId: string): Promise<SecretValue> {
    const meta = s.doc.versions[versionId];
    if (meta?.empty) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    const row = await storage.read((r) => r.secretVersions.get(s.arn, versionId));
    if (!meta || !row) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    let dataKey: Buffer | undefined;
    try {
      dataKey = (await keys.decrypt(caller, { ciphertext: row.encryptedDataKey, encryptionContext: { SecretARN: s.arn, SecretVersionId: versionId } })).plaintext;
      const plain = aeadOpen(dataKey, row.sealedValue, versionAad(s.arn, versionId));
      if (meta.kind === 'binary') return { kind: 'binary', bytes: plain };
      const text = plain.toString('utf8');
      plain.fill(0);
      return { kind: 'string', text };
    } catch (err) {
      if (err instanceof AeadOpenError || (err instanceof TrentError && err.code !== 'AccessDeniedException' && err.fault === 'client')) {
        throw new DecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
      }
      throw err;
    } finally {
      dataKey?.fill(0);
    }
  }

  function sameValue(a: SecretValue, b: SecretValue): boolean {
    if (a.kind !== b.kind) return false;
    const x = valueBytes(a);
    const y = valueBytes(b);
    return x.length === y.length && constantTimeEqual(x, y);
  }

  /**
   * Adds a version (AWS: PutSecretValue, UpdateSecret with a value, createSecret step). The token is the
   * VersionId; the same token with the same value succeeds and changes nothing, with another value it is
   * ResourceExistsException. Without `stages` the version becomes AWSCURRENT.
   */
  async function addVersion(
    caller: Caller, secretId: string, token: string, value: SecretValue, stages: string[] | undefined,
  ): Promise<{ secret: Secret; versionId: string; stages: string[] }> {
    const labels = stages ?? [AWSCURRENT];
    if (labels.length > MAX_STAGES_PER_VERSION) throw new SecretsLimitExceededException('A version can have at most 20 staging labels.');
    const s = await resolve(caller, secretId);
    if (s.doc.versions[token] && !s.doc.versions[token]!.empty) {
      const existing = await open(caller, s, token);
      if (!sameValue(existing, value)) throw new ResourceExistsException("You can't modify an existing version, you can only create new versions.");
      return { secret: s, versionId: token, stages: s.doc.versions[token]!.stages };
    }
    const sealed = await seal(caller, s.doc.kmsKeyArn, s.arn, token, value);
    const now = clock.now();
    let outStages: string[] = [];
    await mutate(caller, s.arn, (doc, fresh) => {
      if (fresh.arn !== s.arn) throw notFound();
      const placeholder = doc.versions[token];
      if (placeholder && !placeholder.empty) throw new LostRace();
      // Filling a rotation's empty version keeps the labels it has (AWSPENDING) and its creation time.
      doc.versions[token] = { stages: placeholder?.stages ?? [], createdAt: placeholder?.createdAt ?? now, kind: value.kind, kmsKeyArn: sealed.kmsKeyArn };
      for (const label of labels) attachLabel(doc, token, label);
      doc.lastChangedAt = now;
      const pruned = versionsToPrune(doc, now);
      for (const id of pruned) delete doc.versions[id];
      if (Object.keys(doc.versions).length > 100) {
        throw new SecretsLimitExceededException('You have exceeded the maximum number of versions of this secret. Try again after the older versions are deprecated.');
      }
      outStages = doc.versions[token]!.stages;
      return {
        result: undefined,
        extra: async (tx) => {
          await tx.secretVersions.insert({ secretArn: s.arn, versionId: token, createdAt: now, encryptedDataKey: sealed.encryptedDataKey, sealedValue: sealed.sealedValue, doc: { kind: value.kind } });
          if (pruned.length) await tx.secretVersions.delete(s.arn, pruned);
        },
      };
    }).catch(async (err: unknown) => {
      // Two writers with the same token: the loser re-checks as an idempotent retry.
      if (err instanceof LostRace || err instanceof DuplicateError) {
        const again = await resolve(caller, s.arn);
        if (again.doc.versions[token] && sameValue(await open(caller, again, token), value)) return;
        throw new ResourceExistsException("You can't modify an existing version, you can only create new versions.");
      }
      throw err;
    });
    return { secret: await resolve(caller, s.arn), versionId: token, stages: outStages };
  }

  function checkTags(tags: Tag[]): void {
    if (tags.length > MAX_TAGS) throw new SecretsLimitExceededException('The request failed because it would exceed one of the Secrets Manager quotas: tags per secret (50).');
    for (const t of tags) {
      if (t.Key.startsWith('aws:')) throw new InvalidParameterException('Invalid tag key: the prefix aws: is reserved for AWS use.');
    }
  }

  function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
    const out = existing.filter((t) => !added.some((a) => a.Key === t.Key));
    return [...out, ...added];
  }

  async function kmsKeyFor(caller: Caller, kmsKeyId: string | undefined): Promise<string> {
    if (kmsKeyId === undefined) return (await aliases.awsManagedKey(caller, 'secretsmanager')).arn;
    // AWS: Secrets Manager uses a customer key only through GenerateDataKey and Decrypt (DescribeKey is the
    // console's), so naming a key needs the permission its first write will need.
    return (await keys.resolveKey(caller, kmsKeyId, { allowAlias: true, action: 'GenerateDataKey' })).arn;
  }

  /**
   * secretsmanager:KmsKeyArn: the ARN of the key a KmsKeyId names, looked up without authorizing (KMS
   * decides the key's use when the operation encrypts); undefined when it names none.
   */
  async function keyArnOf(caller: Caller, kmsKeyId: string | undefined): Promise<string | undefined> {
    if (kmsKeyId === undefined) return undefined;
    try {
      return (await keys.resolveKey(caller, kmsKeyId, { allowAlias: true, action: 'DescribeKey', authorize: false })).arn;
    } catch {
      return undefined;
    }
  }

  async function createSecret(caller: Caller, input: Requests['CreateSecret']): Promise<{ secret: Secret; versionId?: string }> {
    const scope = callerScope(caller);
    const arn = secretArn(scope, input.name, randomArnSuffix());
    const check = createSecretCheck(arn, scope.accountId, input, await keyArnOf(caller, input.kmsKeyId));
    await authorizer.authorizeResource(caller, check.action, check.resource);
    const value = secretValueOf(input);
    if (input.addReplicaRegions !== undefined) throw replicationNotSupported('CreateSecret with AddReplicaRegions');
    checkName(input.name);
    if (value && input.token === undefined) {
      throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
    }
    const tags = input.tags ?? [];
    checkTags(tags);
    const existing = await storage.read((r) => r.secrets.get(scope, input.name));
    if (existing) {
      const s = toSecret(existing);
      if (s.doc.deletedAt !== undefined) {
        throw new InvalidRequestException("You can't create this secret because a secret with this name is already scheduled for deletion.");
      }
      // AWS: a retried CreateSecret (same token, same value) succeeds without change.
      if (value && input.token && s.doc.versions[input.token] && sameValue(await open(caller, s, input.token), value)) {
        return { secret: s, versionId: input.token };
      }
      throw new ResourceExistsException(`The operation failed because the secret ${input.name} already exists.`);
    }
    const kmsKeyArn = await kmsKeyFor(caller, input.kmsKeyId);
    const now = clock.now();
    const doc: SecretDoc = {
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.kmsKeyId !== undefined ? { kmsKeyId: input.kmsKeyId } : {}),
      kmsKeyArn,
      tags,
      versions: {},
      createdAt: now,
      lastChangedAt: now,
      rotation: { enabled: false },
    };
    const versionId = value ? input.token! : undefined;
    const sealed = value && versionId ? await seal(caller, kmsKeyArn, arn, versionId, value) : undefined;
    if (versionId && sealed && value) {
      doc.versions[versionId] = { stages: [AWSCURRENT], createdAt: now, kind: value.kind, kmsKeyArn: sealed.kmsKeyArn };
    }
    try {
      await storage.transaction(async (tx) => {
        await tx.secrets.insert({ ...scope, name: input.name, arn, createdAt: now, dueAt: null, revision: 1, doc: doc as unknown as Record<string, unknown> });
        if (versionId && sealed) {
          await tx.secretVersions.insert({ secretArn: arn, versionId, createdAt: now, encryptedDataKey: sealed.encryptedDataKey, sealedValue: sealed.sealedValue, doc: { kind: value!.kind } });
        }
      });
    } catch (err) {
      if (err instanceof DuplicateError) throw new ResourceExistsException(`The operation failed because the secret ${input.name} already exists.`);
      throw err;
    }
    return { secret: { scope, name: input.name, arn, revision: 1, doc }, ...(versionId ? { versionId } : {}) };
  }

  /** AWS: GetSecretValue — AWSCURRENT unless VersionId/VersionStage say otherwise; records LastAccessedDate (by day). */
  async function getSecretValue(
    caller: Caller, input: Requests['GetSecretValue'], { authorize = true }: Authorization = {},
  ): Promise<{ secret: Secret; versionId: string; value: SecretValue }> {
    const s = await resolve(caller, input.secretId, authorize ? { access: SECRET_ACCESS.GetSecretValue(input) } : {});
    let versionId: string | undefined;
    if (input.versionId !== undefined) {
      versionId = input.versionId;
      const meta = s.doc.versions[versionId];
      if (!meta) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      if (input.versionStage !== undefined && !meta.stages.includes(input.versionStage)) {
        throw new InvalidRequestException('You provided a VersionStage that is not associated to the provided VersionId.');
      }
    } else {
      const stage = input.versionStage ?? AWSCURRENT;
      versionId = versionWithStage(s.doc, stage);
      // AWS: the empty version a rotation starts with has no value to read (the rotation templates'
      // createSecret relies on this ResourceNotFoundException).
      if (!versionId || s.doc.versions[versionId]!.empty) {
        throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
      }
    }
    const value = await open(caller, s, versionId);
    const today = startOfUtcDay(clock.now());
    if (s.doc.lastAccessedAt !== today || s.doc.versions[versionId]!.lastAccessedAt !== today) {
      const id = versionId;
      await mutate(caller, s.arn, (doc) => {
        doc.lastAccessedAt = today;
        if (doc.versions[id]) doc.versions[id]!.lastAccessedAt = today;
        return { result: undefined };
      }).catch(() => undefined); // best effort: a read never fails for its bookkeeping
    }
    return { secret: s, versionId, value };
  }

  async function putSecretValue(caller: Caller, input: Requests['PutSecretValue']) {
    await findAuthorized(caller, input.secretId, SECRET_ACCESS.PutSecretValue());
    const value = secretValueOf(input);
    if (!value) throw new InvalidRequestException('You must provide either SecretString or SecretBinary.');
    if (input.token === undefined) throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
    return addVersion(caller, input.secretId, input.token, value, input.stages);
  }

  /**
   * AWS: changing a secret's KMS key re-encrypts the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions
   * under the new key ("Change the encryption key for a secret"); other versions stay under the key they
   * were written with. A version the caller cannot decrypt with the old key (no kms:Decrypt, key disabled)
   * is left as it is, as AWS does. Trent replaces the stored copy (AWS keeps both), so once the old key is
   * disabled those three versions still read, and the others do not — as in AWS.
   */
  async function resealLabelled(caller: Caller, s: Secret, newKeyArn: string) {
    const out: { versionId: string; sealed: Awaited<ReturnType<typeof seal>> }[] = [];
    for (const versionId of Object.keys(s.doc.versions)) {
      const meta = s.doc.versions[versionId]!;
      if (!meta.stages.some((l) => l === AWSCURRENT || l === AWSPENDING || l === AWSPREVIOUS) || meta.kmsKeyArn === newKeyArn) continue;
      let value: SecretValue;
      try {
        value = await open(caller, s, versionId);
      } catch (err) {
        if (err instanceof DecryptionFailure || err instanceof AccessDeniedException || err instanceof ResourceNotFoundException) continue;
        throw err;
      }
      try {
        out.push({ versionId, sealed: await seal(caller, newKeyArn, s.arn, versionId, value) });
      } finally {
        if (value.kind === 'binary') value.bytes.fill(0);
      }
    }
    return out;
  }

  async function updateSecret(caller: Caller, input: Requests['UpdateSecret']): Promise<{ secret: Secret; versionId?: string }> {
    const found = await findAuthorized(caller, input.secretId, SECRET_ACCESS.UpdateSecret(input, await keyArnOf(caller, input.kmsKeyId)));
    const value = secretValueOf(input);
    const s = usable(found, {});
    if (value && input.token === undefined) {
      throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
    }
    if (input.description !== undefined || input.kmsKeyId !== undefined) {
      const kmsKeyArn = input.kmsKeyId !== undefined ? await kmsKeyFor(caller, input.kmsKeyId) : undefined;
      const resealed = kmsKeyArn !== undefined && kmsKeyArn !== s.doc.kmsKeyArn ? await resealLabelled(caller, s, kmsKeyArn) : [];
      await mutate(caller, s.arn, (doc) => {
        if (input.description !== undefined) doc.description = input.description;
        if (input.kmsKeyId !== undefined && kmsKeyArn) {
          doc.kmsKeyId = input.kmsKeyId;
          doc.kmsKeyArn = kmsKeyArn;
        }
        // Versions are immutable, so a re-sealed copy stays right even if labels moved meanwhile.
        const still = resealed.filter((r) => doc.versions[r.versionId] !== undefined);
        for (const r of still) doc.versions[r.versionId]!.kmsKeyArn = r.sealed.kmsKeyArn;
        doc.lastChangedAt = clock.now();
        return {
          result: undefined,
          extra: async (tx) => {
            for (const r of still) {
              const row = await tx.secretVersions.get(s.arn, r.versionId);
              if (!row) continue;
              await tx.secretVersions.delete(s.arn, [r.versionId]);
              await tx.secretVersions.insert({ ...row, encryptedDataKey: r.sealed.encryptedDataKey, sealedValue: r.sealed.sealedValue });
            }
          },
        };
      });
    }
    if (value) {
      const out = await addVersion(caller, s.arn, input.token!, value, undefined);
      return { secret: out.secret, versionId: out.versionId };
    }
    return { secret: await resolve(caller, s.arn) };
  }

  /** AWS: UpdateSecretVersionStage — moving a label attached elsewhere needs RemoveFromVersionId. */
  async function updateSecretVersionStage(
    caller: Caller, input: Requests['UpdateSecretVersionStage'], { authorize = true }: Authorization = {},
  ): Promise<Secret> {
    await mutate(caller, input.secretId, (doc) => {
      const { stage, removeFrom, moveTo } = input;
      if (moveTo !== undefined && !doc.versions[moveTo]) {
        throw new InvalidParameterException(`The version ${moveTo} doesn't exist.`);
      }
      if (removeFrom !== undefined) {
        if (!doc.versions[removeFrom]?.stages.includes(stage)) {
          throw new InvalidRequestException('You provided a VersionStage that is not associated to the provided VersionId.');
        }
      }
      const holder = versionWithStage(doc, stage);
      if (moveTo !== undefined && holder !== undefined && holder !== moveTo && holder !== removeFrom) {
        throw new InvalidParameterException(
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (stage === AWSCURRENT && moveTo === undefined && removeFrom !== undefined) {
        throw new InvalidParameterException(`You can only move staging label ${AWSCURRENT} to a different secret version. It can\u2019t be completely removed.`);
      }
      if (moveTo !== undefined && holder === moveTo) return { result: undefined, write: removeFrom !== undefined && removeFrom !== moveTo };
      if (removeFrom !== undefined && stage !== AWSCURRENT) removeLabel(doc, removeFrom, stage);
      if (moveTo !== undefined) {
        if (stage === AWSCURRENT) makeCurrent(doc, moveTo);
        else attachLabel(doc, moveTo, stage);
        if (doc.versions[moveTo]!.stages.length > MAX_STAGES_PER_VERSION) {
          throw new SecretsLimitExceededException('A version can have at most 20 staging labels.');
        }
      }
      doc.lastChangedAt = clock.now();
      return { result: undefined };
    }, authorize ? { access: SECRET_ACCESS.UpdateSecretVersionStage(input) } : {});
    return resolve(caller, input.secretId);
  }

  async function describeSecret(caller: Caller, secretId: string): Promise<Secret> {
    return resolve(caller, secretId, { allowDeleted: true, access: SECRET_ACCESS.DescribeSecret() });
  }

  function matches(s: Secret, f: ListFilter): boolean {
    const anyOf = (value: string, candidates: string[]) => candidates.some((c) => c.toLowerCase().startsWith(value.toLowerCase()));
    const fields = (): string[] => {
      switch (f.Key) {
        case 'name': return [s.name];
        case 'description': return [s.doc.description ?? ''];
        case 'tag-key': return s.doc.tags.map((t) => t.Key);
        case 'tag-value': return s.doc.tags.map((t) => t.Value);
        case 'primary-region': return [s.scope.region];
        case 'owning-service': return [];
        default: return [s.name, s.doc.description ?? '', ...s.doc.tags.flatMap((t) => [t.Key, t.Value])];
      }
    };
    const candidates = fields();
    const positive = f.Values.filter((v) => !v.startsWith('!'));
    const negative = f.Values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
    if (negative.some((v) => anyOf(v, candidates))) return false;
    return positive.length === 0 || positive.some((v) => anyOf(v, candidates));
  }

  /** AWS: ListSecrets — filters AND across keys, OR within values, `!` negates, prefix and case-insensitive. */
  async function listSecrets(
    caller: Caller,
    input: { filters?: ListFilter[]; includePlannedDeletion?: boolean; maxResults?: number; nextToken?: string; sortBy?: string; sortOrder?: 'asc' | 'desc' },
  ): Promise<{ secrets: Secret[]; nextToken?: string }> {
    let offset = 0;
    if (input.nextToken !== undefined) {
      try {
        offset = Number(markers.decode('ListSecrets', input.nextToken));
      } catch {
        throw new InvalidNextTokenException('The NextToken value is not valid.');
      }
    }
    const all = (await storage.read((r) => r.secrets.listAll(callerScope(caller)))).map(toSecret)
      .filter((s) => input.includePlannedDeletion || s.doc.deletedAt === undefined)
      .filter((s) => (input.filters ?? []).every((f) => matches(s, f)));
    const keyOf = (s: Secret): string | number => {
      switch (input.sortBy) {
        case 'name': return s.name;
        case 'last-accessed-date': return s.doc.lastAccessedAt ?? 0;
        case 'last-changed-date': return s.doc.lastChangedAt;
        default: return s.doc.createdAt;
      }
    };
    const dir = (input.sortOrder ?? 'desc') === 'asc' ? 1 : -1;
    all.sort((a, b) => {
      const x = keyOf(a);
      const y = keyOf(b);
      return (x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0) * dir;
    });
    const limit = input.maxResults ?? 100;
    const page = all.slice(offset, offset + limit);
    return { secrets: page, ...(offset + limit < all.length ? { nextToken: markers.encode('ListSecrets', String(offset + limit)) } : {}) };
  }

  async function listSecretVersionIds(
    caller: Caller, input: Requests['ListSecretVersionIds'],
  ): Promise<{ secret: Secret; versionIds: string[]; nextToken?: string }> {
    const s = await resolve(caller, input.secretId, { allowDeleted: true, access: SECRET_ACCESS.ListSecretVersionIds() });
    let offset = 0;
    if (input.nextToken !== undefined) {
      try {
        offset = Number(markers.decode('ListSecretVersionIds', input.nextToken));
      } catch {
        throw new InvalidNextTokenException('The NextToken value is not valid.');
      }
    }
    const ids = versionsNewestFirst(s.doc).filter((id) => input.includeDeprecated || s.doc.versions[id]!.stages.length > 0);
    const limit = input.maxResults ?? 100;
    return {
      secret: s,
      versionIds: ids.slice(offset, offset + limit),
      ...(offset + limit < ids.length ? { nextToken: markers.encode('ListSecretVersionIds', String(offset + limit)) } : {}),
    };
  }

  /** AWS: DeleteSecret — a recovery window of 7–30 days (default 30), or ForceDeleteWithoutRecovery. */
  async function deleteSecret(caller: Caller, input: Requests['DeleteSecret']): Promise<{ arn: string; name: string; deletionDate: number }> {
    const s = await findAuthorized(caller, input.secretId, SECRET_ACCESS.DeleteSecret(input));
    if (input.force && input.recoveryWindowInDays !== undefined) {
      throw new InvalidParameterException("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const days = input.recoveryWindowInDays ?? 30;
    if (days < 7 || days > 30) throw new InvalidParameterException('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    const now = clock.now();
    if (input.force) {
      // AWS: force-deleting a secret that does not exist succeeds as if it did.
      const name = s?.name ?? input.secretId;
      if (s) await storage.transaction((tx) => tx.secrets.delete(s.scope, s.name));
      return { arn: s?.arn ?? (input.secretId.startsWith('arn:') ? input.secretId : secretArn(callerScope(caller), name, randomArnSuffix())), name, deletionDate: now };
    }
    if (!s) throw notFound();
    if (s.doc.deletedAt !== undefined) throw markedForDeletion();
    const purgeAt = now + days * DAY_MS;
    await mutate(caller, s.arn, (doc) => {
      doc.deletedAt = now;
      doc.purgeAt = purgeAt;
      return { result: undefined };
    }, { allowDeleted: false });
    return { arn: s.arn, name: s.name, deletionDate: purgeAt };
  }

  async function restoreSecret(caller: Caller, secretId: string): Promise<Secret> {
    await mutate(caller, secretId, (doc) => {
      if (doc.deletedAt === undefined) return { result: undefined, write: false };
      delete doc.deletedAt;
      delete doc.purgeAt;
      return { result: undefined };
    }, { allowDeleted: true, access: SECRET_ACCESS.RestoreSecret() });
    return resolve(caller, secretId);
  }

  async function tagResource(caller: Caller, input: Requests['TagResource']): Promise<void> {
    await mutate(caller, input.secretId, (doc) => {
      doc.tags = mergeTags(doc.tags, input.tags);
      checkTags(doc.tags);
      return { result: undefined };
    }, { access: SECRET_ACCESS.TagResource(input) });
  }

  async function untagResource(caller: Caller, input: Requests['UntagResource']): Promise<void> {
    await mutate(caller, input.secretId, (doc) => {
      doc.tags = doc.tags.filter((t) => !input.tagKeys.includes(t.Key));
      return { result: undefined };
    }, { access: SECRET_ACCESS.UntagResource(input) });
  }

  /**
   * AWS: PutResourcePolicy/ValidateResourcePolicy — the policy must parse as a resource-based policy
   * (the policy evaluator's grammar: MalformedPolicyDocumentException). Policies are evaluated for
   * every call on the secret (findAuthorized).
   */
  function parseResourcePolicy(text: string): PolicyDocument {
    return parsePolicy(text, 'key', { maxLength: MAX_RESOURCE_POLICY_LENGTH });
  }

  async function putResourcePolicy(caller: Caller, input: Requests['PutResourcePolicy']): Promise<Secret> {
    await findAuthorized(caller, input.secretId, SECRET_ACCESS.PutResourcePolicy(input));
    const doc = parseResourcePolicy(input.policy);
    // AWS: with BlockPublicPolicy, a policy allowing a wildcard principal is refused (PublicPolicyException).
    if (input.blockPublicPolicy && grantsPublicAccess(doc)) {
      throw new PublicPolicyException('The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.');
    }
    await mutate(caller, input.secretId, (d) => {
      d.policy = input.policy;
      return { result: undefined };
    });
    return resolve(caller, input.secretId);
  }

  async function getResourcePolicy(caller: Caller, secretId: string): Promise<Secret> {
    return resolve(caller, secretId, { access: SECRET_ACCESS.GetResourcePolicy() });
  }

  async function deleteResourcePolicy(caller: Caller, secretId: string): Promise<Secret> {
    await mutate(caller, secretId, (doc) => {
      delete doc.policy;
      return { result: undefined };
    }, { access: SECRET_ACCESS.DeleteResourcePolicy() });
    return resolve(caller, secretId);
  }

  /**
   * AWS: ValidateResourcePolicy — grammar errors are MalformedPolicyDocumentException; a policy that
   * parses but allows broad access (a wildcard principal) fails validation with a ValidationErrors entry.
   */
  async function validateResourcePolicy(
    caller: Caller, input: Requests['ValidateResourcePolicy'],
  ): Promise<{ passed: boolean; errors: { CheckName: string; ErrorMessage: string }[] }> {
    const access = SECRET_ACCESS.ValidateResourcePolicy();
    if (input.secretId !== undefined) await resolve(caller, input.secretId, { access });
    else for (const action of access.actions) await authorizer.authorizeResource(caller, action, anyResource(caller));
    const doc = parseResourcePolicy(input.policy);
    const errors = grantsPublicAccess(doc)
      ? [{ CheckName: 'BROAD_ACCESS', ErrorMessage: 'The resource policy grants access to a wildcard principal without a condition limiting it to specific accounts or principals.' }]
      : [];
    return { passed: errors.length === 0, errors };
  }

  /**
   * Records rotation configuration (RotateSecret). With `claim` (RotateImmediately) the run is claimed in
   * the same compare-and-set: refused while another run holds the secret, as AWS refuses a RotateSecret
   * while a rotation is in progress; a retry with the running token changes nothing (`started` false).
   */
  async function configureRotation(
    caller: Caller, input: { secretId: string; lambdaArn?: string; rules?: RotationRules; claim?: { owner: string; token: string; leaseMs: number } },
  ): Promise<{ secret: Secret; started: boolean }> {
    if (input.rules) validateRules(input.rules);
    const started = await mutate(caller, input.secretId, (doc) => {
      const now = clock.now();
      const lambdaArn = input.lambdaArn ?? doc.rotation.lambdaArn;
      if (lambdaArn === undefined) throw new InvalidRequestException('No Lambda rotation function ARN is associated with this secret.');
      const running = liveClaim(doc, now);
      if (running && input.claim && running.token === input.claim.token) return { result: false, write: false };
      const pending = versionWithStage(doc, AWSPENDING);
      if (running || (pending !== undefined && pending !== currentVersion(doc))) {
        throw new InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.");
      }
      const rules = input.rules ?? doc.rotation.rules;
      doc.rotation = {
        ...doc.rotation,
        enabled: true,
        lambdaArn,
        principalArn: caller.principalArn,
        ...(rules ? { rules } : {}),
      };
      const next = rules ? nextRotation(rules, now) : undefined;
      if (next !== undefined) doc.rotation.nextRotationAt = next;
      if (input.claim) {
        startPendingVersion(doc, input.claim.token, now);
        doc.rotation.claim = { token: input.claim.token, owner: input.claim.owner, leaseUntil: now + input.claim.leaseMs, startedAt: now };
      } else {
        delete doc.rotation.claim;
      }
      return { result: input.claim !== undefined };
    });
    return { secret: await resolve(caller, input.secretId), started };
  }

  /** The job pass's claim of a due (or abandoned) rotation; see rotation-claim.ts. */
  async function claimScheduledRotation(caller: Caller, arn: string, req: { owner: string; leaseMs: number; newToken: string }): Promise<ScheduledClaim> {
    return mutate(caller, arn, (doc) => {
      const out = claimScheduled(doc, { ...req, now: clock.now() });
      return { result: out, write: out.kind !== 'none' };
    }, { allowDeleted: true });
  }

  /** Extends the lease of a run `owner` holds; false when the run is no longer its own (taken over, cancelled). */
  async function renewRotationClaim(caller: Caller, arn: string, owner: string, token: string, leaseMs: number): Promise<boolean> {
    return mutate(caller, arn, (doc) => {
      const held = renewClaim(doc, owner, token, { owner, leaseMs, now: clock.now() });
      return { result: held, write: held };
    }, { allowDeleted: true });
  }

  /**
   * Records the outcome of a run and releases its claim (success: LastRotatedDate, next date; failure: the
   * failed step). Only the claim's holder records; false when the run was taken over or cancelled meanwhile.
   */
  async function recordRotation(
    caller: Caller, arn: string, run: { owner: string; token: string }, outcome: { ok: true } | { ok: false; step: string; message: string },
  ): Promise<boolean> {
    const now = clock.now();
    return mutate(caller, arn, (doc) => {
      if (!holdsClaim(doc, run.owner, run.token)) return { result: false, write: false };
      delete doc.rotation.claim;
      if (outcome.ok) {
        doc.lastRotatedAt = now;
        delete doc.rotation.lastFailure;
      } else {
        doc.rotation.lastFailure = { step: outcome.step, message: outcome.message, at: now, token: run.token };
      }
      const next = doc.rotation.rules ? nextRotation(doc.rotation.rules, now) : undefined;
      if (next !== undefined) doc.rotation.nextRotationAt = next;
      else delete doc.rotation.nextRotationAt;
      return { result: true };
    }, { allowDeleted: true });
  }

  async function cancelRotateSecret(caller: Caller, secretId: string): Promise<{ secret: Secret; versionId?: string }> {
    let pendingId: string | undefined;
    await mutate(caller, secretId, (doc) => {
      pendingId = versionWithStage(doc, AWSPENDING);
      doc.rotation = { enabled: false, ...(doc.rotation.lambdaArn ? { lambdaArn: doc.rotation.lambdaArn } : {}), ...(doc.rotation.rules ? { rules: doc.rotation.rules } : {}) };
      // AWS: CancelRotateSecret removes AWSPENDING from a version that is not AWSCURRENT.
      if (pendingId !== undefined && pendingId !== currentVersion(doc)) removeLabel(doc, pendingId, AWSPENDING);
      return { result: undefined };
    }, { access: SECRET_ACCESS.CancelRotateSecret() });
    return { secret: await resolve(caller, secretId), ...(pendingId ? { versionId: pendingId } : {}) };
  }

  /**
   * Trent is a single-Region service: the replication operations resolve the secret (ResourceNotFoundException
   * first, as AWS), then answer replicationNotSupported.
   */
  async function refuseReplication(
    caller: Caller, operation: 'ReplicateSecretToRegions' | 'RemoveRegionsFromReplication' | 'StopReplicationToReplica', secretId: string,
  ): Promise<never> {
    await resolve(caller, secretId, { access: SECRET_ACCESS[operation]() });
    throw replicationNotSupported(operation);
  }

  /** The purge job: secrets whose recovery window ended are deleted with all their versions. */
  async function purgeDue(now: number): Promise<{ purged: number; rotationDue: Secret[] }> {
    const due = (await storage.read((r) => r.secrets.listDue(now, 100))).map(toSecret);
    let purged = 0;
    const rotationDue: Secret[] = [];
    for (const s of due) {
      if (s.doc.purgeAt !== undefined && s.doc.purgeAt <= now) {
        await storage.transaction(async (tx) => {
          const fresh = await tx.secrets.get(s.scope, s.name);
          if (fresh && fresh.arn === s.arn && (fresh.doc as unknown as SecretDoc).purgeAt !== undefined && (fresh.doc as unknown as SecretDoc).purgeAt! <= now) {
            await tx.secrets.delete(s.scope, s.name);
            purged++;
          }
        });
      } else if (s.doc.deletedAt === undefined && s.doc.rotation.enabled && (s.doc.rotation.claim?.leaseUntil ?? s.doc.rotation.nextRotationAt ?? Infinity) <= now) {
        rotationDue.push(s);
      }
    }
    return { purged, rotationDue };
  }

  return {
    find,
    resolve,
    open,
    createSecret,
    getSecretValue,
    putSecretValue,
    addVersion,
    updateSecret,
    updateSecretVersionStage,
    describeSecret,
    listSecrets,
    listSecretVersionIds,
    deleteSecret,
    restoreSecret,
    tagResource,
    untagResource,
    putResourcePolicy,
    getResourcePolicy,
    deleteResourcePolicy,
    validateResourcePolicy,
    configureRotation,
    claimScheduledRotation,
    renewRotationClaim,
    recordRotation,
    cancelRotateSecret,
    refuseReplication,
    purgeDue,
  };
}

export function accessDeniedForRotator(): TrentError {
  return new AccessDeniedException(
    'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
  );
}
