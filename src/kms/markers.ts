/**
 * Pagination markers: opaque to clients, but checked. A marker names what it pages (so a ListAliases
 * marker is refused by ListKeys) and the sort key to resume after; anything else is InvalidMarkerException.
 */
import { InvalidMarkerException } from '../errors/errors.ts';

export function encodeMarker(kind: string, after: string): string {
  return Buffer.from(JSON.stringify({ k: kind, a: after }), 'utf8').toString('base64url');
}

export function decodeMarker(kind: string, marker: string | undefined): string | undefined {
  if (marker === undefined) return undefined;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(marker)) throw new Error('charset');
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && 'k' in parsed && 'a' in parsed &&
        parsed.k === kind && typeof parsed.a === 'string') {
      return parsed.a;
    }
  } catch {
    // fall through to the uniform refusal
  }
  throw new InvalidMarkerException('Invalid marker');
}
