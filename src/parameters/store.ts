/**
 * The context every Parameter Store operation runs with, and the row-level helpers they share: reads
 * that raise ParameterNotFound / ParameterVersionNotFound, and compare-and-set writes retried from a
 * fresh read (AWS answers contention on one parameter with TooManyUpdates).
 */
import type { Clock } from '../clock.ts';
import type { AliasService } from '../kms/alias-service.ts';
import type { KeyService } from '../kms/key-service.ts';
import type { PaginationMarkers } from '../kms/markers.ts';
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import type { Repos, Scope, Storage } from '../storage/storage.ts';
import { ParameterNotFound, ParameterVersionNotFound, TooManyUpdates } from './errors.ts';
import { nameForms, type ParameterReference } from './names.ts';
import type { ParamDoc } from './parameter-model.ts';
import type { PolicyEventSink } from './policy-events.ts';
import { readLatest, type RequestReads } from './request-reads.ts';
import type { SecretReferenceReader } from './secret-reference.ts';

export interface ParameterServiceDeps {
  storage: Storage;
  clock: Clock;
  keys: KeyService;
  aliases: Pick<AliasService, 'awsManagedKey'>;
  /** Where policy actions are announced (audit trail, webhook); absent: nowhere. */
  events?: PolicyEventSink;
  /** Secrets Manager behind /aws/reference/secretsmanager/ (secret-reference.ts); absent: none found. */
  secretReferences?: SecretReferenceReader;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
}

/** What the operations (plain functions of the sibling modules) are given: the service's dependencies. */
export type ParameterContext = ParameterServiceDeps;

/** Attempts of a compare-and-set write before TooManyUpdates (AWS's answer to contention on one parameter). */
const MAX_CAS_ATTEMPTS = 30;

/** A lost compare-and-set: the whole operation is retried from a fresh read. */
export class LostRace extends Error {}

export async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
    // Jittered backoff outside any transaction, so racing writers spread out.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (attempt + 1))));
  }
  throw new TooManyUpdates('There are concurrent updates for a resource that supports one update at a time.');
}

export function notFound(ref: string): Error {
  return new ParameterNotFound(`Parameter ${ref} not found.`);
}

export function versionNotFound(name: string, version: number): Error {
  return new ParameterVersionNotFound(`Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`);
}

/** The parameter a name denotes, under whichever of its forms it was created (names.ts nameForms). */
export async function findParameter(repos: Pick<Repos, 'parameters'>, scope: Scope, name: string): Promise<ParameterRecord | undefined> {
  for (const form of nameForms(name)) {
    const p = await repos.parameters.get(scope, form);
    if (p) return p;
  }
  return undefined;
}

export async function getRecord({ storage }: ParameterContext, scope: Scope, name: string, ref: string): Promise<ParameterRecord> {
  const p = await storage.read((r) => findParameter(r, scope, name));
  if (!p) throw notFound(ref);
  return p;
}

export async function latest({ storage }: ParameterContext, scope: Scope, p: ParameterRecord): Promise<ParameterVersionRecord | undefined> {
  return storage.read((r) => r.parameters.getVersion(scope, p.name, p.version));
}

/** The version a reference selects (latest without a selector). */
export async function selectVersion(
  ctx: ParameterContext, scope: Scope, ref: ParameterReference, text: string, reads?: RequestReads,
): Promise<{ p: ParameterRecord; v: ParameterVersionRecord }> {
  const { storage } = ctx;
  const sel = ref.selector;
  // The parameter with its latest version in one statement (the hot path of GetParameter), or the one
  // this request's access rule already made (request-reads.ts).
  const found = !sel || reads ? await (reads ? reads.latest(scope, ref.name) : readLatest(storage, scope, ref.name)) : undefined;
  if (!sel) {
    if (!found) throw notFound(text);
    if (!found.latest) throw versionNotFound(found.parameter.name, found.parameter.version);
    return { p: found.parameter, v: found.latest };
  }
  const p = reads ? found?.parameter : await getRecord(ctx, scope, ref.name, text);
  if (!p) throw notFound(text);
  if (sel && 'label' in sel) {
    const v = (await storage.read((r) => r.parameters.listVersions(scope, p.name))).find((x) => x.labels.includes(sel.label));
    if (!v) throw new ParameterVersionNotFound(`Systems Manager could not find label ${sel.label} of ${p.name}. Verify the label and try again.`);
    return { p, v };
  }
  const version = sel.version;
  const v = await storage.read((r) => r.parameters.getVersion(scope, p.name, version));
  if (!v) throw versionNotFound(p.name, version);
  return { p, v };
}

/** Runs `change` on the current row and its versions in one transaction, compare-and-set on the row. */
export async function mutate<T>(
  { storage }: ParameterContext, scope: Scope, name: string, ref: string,
  change: (tx: Repos, p: ParameterRecord) => Promise<{ doc?: ParamDoc; result: T }>,
): Promise<T> {
  return withRetries(() =>
    storage.transaction(async (tx) => {
      const p = await findParameter(tx, scope, name);
      if (!p) throw notFound(ref);
      const { doc, result } = await change(tx, p);
      if (!(await tx.parameters.update({ ...p, ...(doc ? { doc: doc as unknown as Record<string, unknown> } : {}) }, p.revision))) throw new LostRace();
      return result;
    }),
  );
}
