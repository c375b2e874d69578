/**
 * Paging of the IAM List* operations, as the IAM API reference describes it for every one of them:
 * `MaxItems` (1–1000, default 100) and `Marker` in; `IsTruncated` and, when true, `Marker` out. A marker
 * is opaque to clients: here the sort key of the last item returned, so a page resumes after it even when
 * items were added or removed meanwhile. Items are listed in key order (code unit order of the key).
 * AWS: a marker the service did not issue is `ValidationError`, "Invalid Marker.".
 */
import { ValidationException } from '../../errors/errors.ts';
import { definedMembers } from '../members.ts';
import type { QueryInput } from './protocol.ts';

const PREFIX = 'trent1:';
export const DEFAULT_MAX_ITEMS = 100;
export const MAX_MAX_ITEMS = 1000;

function maxItemsOf(input: QueryInput): number {
  const raw = input.MaxItems;
  if (raw === undefined) return DEFAULT_MAX_ITEMS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ValidationException(`1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  }
  if (n > MAX_MAX_ITEMS) {
    throw new ValidationException(`1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to ${MAX_MAX_ITEMS}`);
  }
  return n;
}

function markerKey(input: QueryInput): string | undefined {
  const raw = input.Marker;
  if (raw === undefined) return undefined;
  const text = /^[A-Za-z0-9_-]{1,320}$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  if (!text.startsWith(PREFIX) || text.length === PREFIX.length) throw new ValidationException('Invalid Marker.');
  return text.slice(PREFIX.length);
}

/**
 * One page of `items` (sorted here by `keyOf`), as `{ [member]: page, IsTruncated, Marker? }`. The
 * input's MaxItems and Marker are validated before anything is listed by the caller's own order.
 */
export function paginate<T>(input: QueryInput, member: string, items: readonly T[], keyOf: (item: T) => string): Record<string, unknown> {
  const max = maxItemsOf(input);
  const after = markerKey(input);
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((i) => keyOf(i) > after);
  const page = rest.slice(0, max);
  const truncated = rest.length > max;
  return definedMembers({
    [member]: page,
    IsTruncated: truncated,
    Marker: truncated ? Buffer.from(PREFIX + keyOf(page[page.length - 1]!), 'utf8').toString('base64url') : undefined,
  });
}

/** Checks MaxItems and Marker before the work of listing (a bad marker fails before any read). */
export function checkPaging(input: QueryInput): void {
  maxItemsOf(input);
  markerKey(input);
}
