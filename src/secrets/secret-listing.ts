/**
 * The queries over secrets: ListSecrets (filters, sort, paging) and ListSecretVersionIds. Pages are
 * offsets carried in authenticated pagination markers (kms/markers.ts), so a caller cannot forge one.
 * BatchGetSecretValue lists through listSecrets (src/http/secretsmanager/secret-operations.ts).
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { InvalidNextTokenException } from './errors.ts';
import type { SecretsManagerRequests as Requests } from './requests.ts';
import { toSecret, type Secret, type SecretContext } from './secret-context.ts';
import { matchesFilter, type ListFilter } from './secret-filters.ts';
import { resolve } from './secret-lookup.ts';
import { versionsNewestFirst } from './secret-model.ts';

/** The offset a NextToken carries; a token this service did not issue for `operation` is InvalidNextTokenException. */
function offsetOf({ markers }: SecretContext, operation: string, nextToken: string | undefined): number {
  if (nextToken === undefined) return 0;
  try {
    return Number(markers.decode(operation, nextToken));
  } catch {
    throw new InvalidNextTokenException('The NextToken value is not valid.');
  }
}

/** AWS: ListSecrets — Filters as secret-filters.ts matches them; by creation date, oldest first, unless SortBy/SortOrder say otherwise. */
export async function listSecrets(
  ctx: SecretContext,
  caller: Caller,
  input: { filters?: ListFilter[]; includePlannedDeletion?: boolean; maxResults?: number; nextToken?: string; sortBy?: string; sortOrder?: 'asc' | 'desc' },
): Promise<{ secrets: Secret[]; nextToken?: string }> {
  const offset = offsetOf(ctx, 'ListSecrets', input.nextToken);
  const all = (await ctx.storage.read((r) => r.secrets.listAll(callerScope(caller)))).map(toSecret)
    .filter((s) => input.includePlannedDeletion || s.doc.deletedAt === undefined)
    .filter((s) => (input.filters ?? []).every((f) => matchesFilter(s, f)));
  const keyOf = (s: Secret): string | number => {
    switch (input.sortBy) {
      case 'name': return s.name;
      case 'last-accessed-date': return s.doc.lastAccessedAt ?? 0;
      case 'last-changed-date': return s.doc.lastChangedAt;
      default: return s.doc.createdAt;
    }
  };
  const dir = (input.sortOrder ?? 'asc') === 'asc' ? 1 : -1;
  all.sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    return (x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0) * dir;
  });
  const limit = input.maxResults ?? 100;
  const page = all.slice(offset, offset + limit);
  return { secrets: page, ...(offset + limit < all.length ? { nextToken: ctx.markers.encode('ListSecrets', String(offset + limit)) } : {}) };
}

export async function listSecretVersionIds(
  ctx: SecretContext, caller: Caller, input: Requests['ListSecretVersionIds'],
): Promise<{ secret: Secret; versionIds: string[]; nextToken?: string }> {
  const s = await resolve(ctx, caller, input.secretId, { allowDeleted: true, access: SECRET_ACCESS.ListSecretVersionIds() });
  const offset = offsetOf(ctx, 'ListSecretVersionIds', input.nextToken);
  const ids = versionsNewestFirst(s.doc).filter((id) => input.includeDeprecated || s.doc.versions[id]!.stages.length > 0);
  const limit = input.maxResults ?? 100;
  return {
    secret: s,
    versionIds: ids.slice(offset, offset + limit),
    ...(offset + limit < ids.length ? { nextToken: ctx.markers.encode('ListSecretVersionIds', String(offset + limit)) } : {}),
  };
}
