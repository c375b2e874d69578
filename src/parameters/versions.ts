/**
 * A parameter's versions and their labels: GetParameterHistory, LabelParameterVersion and
 * UnlabelParameterVersion. A label is on at most one version of a parameter; labelling another version
 * moves it (labels.ts).
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { ValidationException } from '../errors/errors.ts';
import { ParameterVersionLabelLimitExceeded } from './errors.ts';
import { isValidLabel, MAX_LABELS_PER_VERSION } from './labels.ts';
import { parseParameterReference } from './names.ts';
import { type ParameterPage, type ParameterVersionValue, pdoc } from './parameter-model.ts';
import { decodeToken } from './queries.ts';
import type { ParameterStoreRequests as Requests } from './requests.ts';
import { getRecord, mutate, type ParameterContext, versionNotFound } from './store.ts';
import { versionWithValue } from './values.ts';

export async function getParameterHistory(
  ctx: ParameterContext,
  caller: Caller,
  input: Requests['GetParameterHistory'],
): Promise<ParameterPage<ParameterVersionValue>> {
  const { storage, markers } = ctx;
  const scope = callerScope(caller);
  const ref = parseParameterReference(scope, input.name);
  if (ref.selector) throw new ValidationException('GetParameterHistory takes a parameter name without a version or label selector.');
  const p = await getRecord(ctx, scope, ref.name, input.name);
  const after = Number(decodeToken(ctx, 'GetParameterHistory', input.nextToken) ?? '0');
  const max = input.maxResults ?? 50;
  const all = (await storage.read((r) => r.parameters.listVersions(scope, p.name))).filter((v) => v.version > after);
  const slice = all.slice(0, max);
  const items: ParameterVersionValue[] = [];
  for (const v of slice) items.push(await versionWithValue(ctx, caller, scope, v, input.withDecryption ?? false, pdoc(p).notified));
  const next = all.length > max ? markers.encode('GetParameterHistory', String(slice[slice.length - 1]!.version)) : undefined;
  return { items, ...(next ? { nextToken: next } : {}) };
}

/** Labels a version (the latest without one); labels already on other versions move to it. */
export async function labelParameterVersion(
  ctx: ParameterContext,
  caller: Caller,
  input: Requests['LabelParameterVersion'],
): Promise<{ version: number; invalidLabels: string[] }> {
  const scope = callerScope(caller);
  const ref = parseParameterReference(scope, input.name);
  const valid = [...new Set(input.labels.filter(isValidLabel))];
  const invalid = input.labels.filter((l) => !isValidLabel(l));
  return mutate(ctx, scope, ref.name, input.name, async (tx, p) => {
    const version = input.version ?? p.version;
    const versions = await tx.parameters.listVersions(scope, p.name);
    const target = versions.find((v) => v.version === version);
    if (!target) throw versionNotFound(p.name, version);
    const labels = [...new Set([...target.labels, ...valid])];
    if (labels.length > MAX_LABELS_PER_VERSION) {
      throw new ParameterVersionLabelLimitExceeded(
        'A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.',
      );
    }
    for (const v of versions) {
      if (v.version === version) continue;
      const kept = v.labels.filter((l) => !valid.includes(l));
      if (kept.length !== v.labels.length) await tx.parameters.setLabels(scope, p.name, v.version, kept);
    }
    await tx.parameters.setLabels(scope, p.name, version, labels);
    return { result: { version, invalidLabels: invalid } };
  });
}

export async function unlabelParameterVersion(
  ctx: ParameterContext,
  caller: Caller,
  input: Requests['UnlabelParameterVersion'],
): Promise<{ removedLabels: string[]; invalidLabels: string[] }> {
  const scope = callerScope(caller);
  const ref = parseParameterReference(scope, input.name);
  return mutate(ctx, scope, ref.name, input.name, async (tx, p) => {
    const v = await tx.parameters.getVersion(scope, p.name, input.version);
    if (!v) throw versionNotFound(p.name, input.version);
    const removed = [...new Set(input.labels.filter((l) => v.labels.includes(l)))];
    const invalid = input.labels.filter((l) => !v.labels.includes(l));
    await tx.parameters.setLabels(scope, p.name, v.version, v.labels.filter((l) => !removed.includes(l)));
    return { result: { removedLabels: removed, invalidLabels: invalid } };
  });
}
