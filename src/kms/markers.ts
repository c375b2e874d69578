/**
 * Pagination markers (KMS Marker, Secrets Manager / SSM / CloudTrail NextToken): opaque to clients and
 * authenticated. A marker is `<payload>.<mac>`: the payload names what it pages (so a ListAliases marker
 * is refused by ListKeys) and the sort key to resume after; the MAC is HMAC-SHA-256 (truncated to 128
 * bits) over the kind and the payload, under a key every node of the deployment shares (a deployment
 * secret stored sealed under the root keyring, docs/seal.md), so a marker issued by one node pages on
 * another, and a forged or altered one is refused before anything is read.
 *
 * Contract: decode() returns the resume point of a marker this deployment issued for `kind`, or throws
 * InvalidMarkerException (callers of other services map it to their own code); it never says why.
 */
import { constantTimeEqual, hmacSha256 } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { InvalidMarkerException } from '../errors/errors.ts';

const MAC_BYTES = 16;
const DOMAIN = 'trent/pagination-marker/v1';

export class PaginationMarkers {
  readonly #key: SecretBytes;

  /** `key`: 32 bytes of the deployment secret `pagination-markers` (adopted; zeroed by zeroize()). */
  constructor(key: SecretBytes) {
    this.#key = key;
  }

  #mac(kind: string, payload: string): Buffer {
    return hmacSha256(this.#key.expose(), `${DOMAIN}\0${kind}\0${payload}`).subarray(0, MAC_BYTES);
  }

  encode(kind: string, after: string): string {
    const payload = Buffer.from(JSON.stringify({ k: kind, a: after }), 'utf8').toString('base64url');
    return `${payload}.${this.#mac(kind, payload).toString('base64url')}`;
  }

  decode(kind: string, marker: string | undefined): string | undefined {
    if (marker === undefined) return undefined;
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/.exec(marker);
    // The MAC is checked before the payload is parsed: nothing of a forged marker is interpreted.
    if (m && constantTimeEqual(Buffer.from(m[2]!, 'base64url'), this.#mac(kind, m[1]!))) {
      try {
        const parsed = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as unknown;
        if (typeof parsed === 'object' && parsed !== null && 'k' in parsed && 'a' in parsed &&
            parsed.k === kind && typeof parsed.a === 'string') {
          return parsed.a;
        }
      } catch {
        // fall through to the uniform refusal
      }
    }
    // AWS: the modeled message of InvalidMarkerException is "the marker that specifies where pagination
    // should next begin is not valid"; the service's own text for a bad marker is not recorded.
    throw new InvalidMarkerException('Invalid marker');
  }

  zeroize(): void {
    this.#key.zeroize();
  }
}
