/**
 * The parameter rows one request reads, shared by its access rule and its operation. GetParameter(s)'s
 * rule needs the parameter's tags (aws:ResourceTag conditions) before the operation runs, and the
 * operation needs the row and its latest version: one joined read (ParameterRepo.getLatest) serves both,
 * where there were two reads of the parameter row.
 *
 * A RequestReads lives as long as the typed request object the edge hands first to the rule, then to the
 * operation (src/http/access-control.ts `guarded`): a WeakMap keyed by that object, so nothing is kept
 * between requests. It is no cache and needs no coherence rule; and the tags that authorized the call
 * are those of the very row whose value it returns.
 */
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import type { Scope, Storage } from '../storage/storage.ts';
import { nameForms } from './names.ts';

export interface LatestRead {
  parameter: ParameterRecord;
  /** Absent only if the row names a version that is gone (answered as ParameterVersionNotFound). */
  latest: ParameterVersionRecord | undefined;
}

/** The parameter a name denotes (under whichever of its forms it was created) with its latest version, in one statement. */
export function readLatest(storage: Storage, scope: Scope, name: string): Promise<LatestRead | undefined> {
  const forms = nameForms(name);
  // A name with one form (any path below the root): the repo's promise handed on, no async callback around it.
  if (forms.length === 1) return storage.read((r) => r.parameters.getLatest(scope, name));
  return storage.read(async (r) => {
    for (const form of forms) {
      const hit = await r.parameters.getLatest(scope, form);
      if (hit) return hit;
    }
    return undefined;
  });
}

export class RequestReads {
  readonly #latest = new Map<string, Promise<LatestRead | undefined>>();

  constructor(private readonly storage: Storage) {}

  /** The joined read of `name`, made once for this request. */
  latest(scope: Scope, name: string): Promise<LatestRead | undefined> {
    const key = `${scope.accountId}\0${scope.region}\0${name}`;
    let read = this.#latest.get(key);
    if (!read) {
      read = readLatest(this.storage, scope, name);
      this.#latest.set(key, read);
    }
    return read;
  }
}

/** Each request's reads, by its typed request object. */
export function requestReadsFor(storage: Storage): (request: object) => RequestReads {
  const byRequest = new WeakMap<object, RequestReads>();
  return (request) => {
    let reads = byRequest.get(request);
    if (!reads) {
      reads = new RequestReads(storage);
      byRequest.set(request, reads);
    }
    return reads;
  };
}
