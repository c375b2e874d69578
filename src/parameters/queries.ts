/**
 * The listing reads: GetParametersByPath and DescribeParameters, paged by authenticated markers
 * (kms/markers.ts) over a bounded scan of the scope's parameters in name order.
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { ValidationException } from '../errors/errors.ts';
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import type { Scope } from '../storage/storage.ts';
import { InvalidNextToken } from './errors.ts';
import { compileFilters } from './filters.ts';
import { normalizePath, rootRelative } from './names.ts';
import { type ParameterPage, type ParameterVersionInfo, pdoc, type StoredParameterValue, versionInfo } from './parameter-model.ts';
import type { ParameterStoreRequests as Requests } from './requests.ts';
import { latest, type ParameterContext } from './store.ts';
import { versionWithValue } from './values.ts';

/** Rows a list call scans before answering with a (possibly short) page and a NextToken. */
const SCAN_BUDGET = 500;

export function decodeToken({ markers }: ParameterContext, kind: string, token: string | undefined): string | undefined {
  try {
    return markers.decode(kind, token);
  } catch {
    throw new InvalidNextToken('The specified token is not valid.');
  }
}

/**
 * Scans a scope's parameters under `prefix` in name order, keeping those `keep` accepts, until `max`
 * are kept or the scan budget is spent: pages may be short, with a NextToken (AWS's best-effort pages).
 */
async function scan<T>(
  ctx: ParameterContext, scope: Scope, prefix: string, kind: string, token: string | undefined, max: number,
  keep: (p: ParameterRecord) => Promise<T | undefined>,
): Promise<ParameterPage<T>> {
  const { storage, markers } = ctx;
  let after = decodeToken(ctx, kind, token);
  const items: T[] = [];
  let scanned = 0;
  for (;;) {
    const page = await storage.read((r) => r.parameters.list(scope, prefix, after, 50));
    for (const p of page.items) {
      scanned++;
      after = p.name;
      const t = await keep(p);
      if (t !== undefined) items.push(t);
      const more = page.next !== undefined || p !== page.items[page.items.length - 1];
      if ((items.length >= max || scanned >= SCAN_BUDGET) && more) return { items, nextToken: markers.encode(kind, p.name) };
    }
    if (page.next === undefined) return { items };
  }
}

export async function getParametersByPath(
  ctx: ParameterContext,
  caller: Caller,
  input: Requests['GetParametersByPath'],
): Promise<ParameterPage<StoredParameterValue>> {
  const { storage } = ctx;
  const scope = callerScope(caller);
  const path = normalizePath(input.path);
  const { matchers, label } = compileFilters(input.filters ?? [], 'path');
  // AWS: under `/` are the single-level names with and without their leading slash (names.ts nameForms).
  const prefix = path === '/' ? '' : `${path}/`;
  const recursive = input.recursive ?? false;
  return scan(ctx, scope, prefix, 'GetParametersByPath', input.nextToken, input.maxResults ?? 10, async (p) => {
    const rest = path === '/' ? rootRelative(p.name) : p.name.slice(prefix.length);
    if (!recursive && rest.includes('/')) return undefined;
    let v: ParameterVersionRecord | undefined;
    if (label) {
      v = (await storage.read((r) => r.parameters.listVersions(scope, p.name))).find((x) => x.labels.some((l) => label.includes(l)));
    } else {
      v = await latest(ctx, scope, p);
    }
    if (!v || !matchers.every((m) => m(p, v))) return undefined;
    return { source: 'parameter' as const, ...(await versionWithValue(ctx, caller, scope, v, input.withDecryption ?? false)) };
  });
}

export async function describeParameters(
  ctx: ParameterContext,
  caller: Caller,
  input: Requests['DescribeParameters'],
): Promise<ParameterPage<ParameterVersionInfo>> {
  const scope = callerScope(caller);
  if (input.filters && input.parameterFilters) {
    throw new ValidationException('You can use either Filters or ParameterFilters in a single request.');
  }
  // Legacy Filters: Name matches names beginning with a value; Type and KeyId match exactly.
  const filters = input.parameterFilters ?? (input.filters ?? []).map((f) => ({ ...f, Option: f.Key === 'Name' ? 'BeginsWith' : 'Equals' }));
  const { matchers } = compileFilters(filters, 'describe');
  return scan(ctx, scope, '', 'DescribeParameters', input.nextToken, input.maxResults ?? 10, async (p) => {
    const v = await latest(ctx, scope, p);
    if (!v || !matchers.every((m) => m(p, v))) return undefined;
    return versionInfo(scope, v, pdoc(p).notified);
  });
}
