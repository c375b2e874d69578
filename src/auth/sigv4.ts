/**
 * Server-side check of AWS Signature Version 4, header form (AWS4-HMAC-SHA256), as the AWS JSON
 * services (KMS, Secrets Manager, SSM) do it. Query-string (presigned) signing is not accepted.
 *
 * The canonical request is rebuilt from exactly the headers the client signed by `@smithy/signature-v4`
 * (the signer of the AWS SDK for JavaScript) itself: its getCanonicalHeaders and its canonical-request
 * writer (path normalisation and encoding, query canonicalisation), so none of SigV4's canonicalisation
 * rules is written here. What is ours is the last, fixed step: the string to sign, one HMAC under a
 * derived signing key cached per access key, day, region and service, and a constant-time compare.
 * Re-signing with smithy's async sign() cost about 85 µs a call (a quarter of a core at 3,000 req/s),
 * which the benchmark profile showed; the test file holds this path to smithy's sign() on every case of
 * the official suite and on requests the SDK signs. One shortcut: where smithy's rules would leave the
 * request as it is (POST to `/`, every JSON-service call, signed headers in order, values with nothing
 * to normalise), its string is written directly (rootPostCanonicalRequest), which costs a third of a
 * check less; every other request goes through smithy.
 *
 * Error texts mirror what the AWS JSON services send (shared reference §2.4). No message ever holds
 * the secret or the signature we computed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { getCanonicalHeaders, SignatureV4Base } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

import { constantTimeEqual, hmacSha256, sha256Hex } from '../crypto/primitives.ts';
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
} from '../errors/errors.ts';

/** A request as the HTTP edge received it. Nothing in it is trusted. */
export interface SigV4Request {
  method: string; // e.g. 'POST'
  /** Raw request target as received, e.g. '/' or '/?a=b': not decoded, not normalised. */
  url: string;
  headers: IncomingHttpHeaders; // lower-case names as node gives them
  /** The exact bytes received: any re-encoding (JSON re-serialisation, charset) breaks the signature. */
  body: Buffer;
}

/** What the Authorization header claims. Syntax-checked by parseSigV4, not yet authenticated. */
export interface SigV4Credential {
  accessKeyId: string;
  date: string; // YYYYMMDD from the credential scope
  region: string; // from the credential scope
  service: string; // from the credential scope
  /** SignedHeaders, in the order given; shared between requests that sign the same list: never change it. */
  signedHeaders: readonly string[];
  signature: string; // 64 lower-case hex
  amzDate: string; // X-Amz-Date header value (YYYYMMDDTHHMMSSZ)
  signedAt: number; // amzDate as epoch ms
  sessionToken?: string; // X-Amz-Security-Token header, if present
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000; // AWS: RequestExpired / "Signature expired" after 15 minutes either way
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Parses and syntax-checks the Authorization header and X-Amz-Date; no secret needed, so the caller can
 * look up the access key afterwards. Throws MissingAuthenticationTokenException /
 * IncompleteSignatureException / InvalidSignatureException.
 */
export function parseSigV4(req: SigV4Request, expectedService: string): SigV4Credential {
  const authorization = header(req.headers, 'authorization');
  if (!authorization) throw new MissingAuthenticationTokenException('Missing Authentication Token');

  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new IncompleteSignatureException(`Unsupported AWS 'algorithm': '${algorithm}'`);
  }

  // The three parameters, read in one pass; a repeated one counts as its last value. Unknown ones are ignored.
  let credential: string | undefined;
  let signature: string | undefined;
  let signedHeaderList: string | undefined;
  for (const raw of space < 0 ? [] : authorization.slice(space + 1).split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      throw new IncompleteSignatureException(
        `'${part}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
      );
    }
    const name = part.slice(0, eq);
    if (name === 'Credential') credential = part.slice(eq + 1);
    else if (name === 'Signature') signature = part.slice(eq + 1);
    else if (name === 'SignedHeaders') signedHeaderList = part.slice(eq + 1);
  }
  if (!credential || !signature || !signedHeaderList) {
    // AWS names every missing part in this order, then echoes the header.
    const given = { Credential: credential, Signature: signature, SignedHeaders: signedHeaderList };
    const missing = (['Credential', 'Signature', 'SignedHeaders'] as const).filter((name) => !given[name]);
    throw new IncompleteSignatureException(
      missing.map((name) => `Authorization header requires '${name}' parameter. `).join('') +
        `Authorization=${authorization}`,
    );
  }
  const signedHeaders = splitSignedHeaders(signedHeaderList).signedHeaders;

  const scope = credential.split('/');
  if (scope.length !== 5 || scope.includes('')) {
    throw new IncompleteSignatureException(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (terminator !== 'aws4_request') {
    throw new IncompleteSignatureException(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `,
    );
  }

  // Only X-Amz-Date is supported: the SDKs sign with it, and a signed Date header is refused (see verifySigV4).
  const amzDate = header(req.headers, 'x-amz-date');
  if (amzDate === undefined) {
    throw new IncompleteSignatureException(
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`,
    );
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    throw new IncompleteSignatureException(
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }

  // Unsigned, these could be swapped by anyone replaying the request (another host, a later time, another session).
  const sessionToken = header(req.headers, 'x-amz-security-token');
  if (!signedHeaders.includes('host')) {
    throw new InvalidSignatureException("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!signedHeaders.includes('x-amz-date')) {
    throw new InvalidSignatureException("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (sessionToken !== undefined && !signedHeaders.includes('x-amz-security-token')) {
    throw new InvalidSignatureException("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
  }

  if (date !== amzDate.slice(0, 8)) {
    throw new InvalidSignatureException(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (service !== expectedService) {
    throw new InvalidSignatureException(`Credential should be scoped to correct service: '${expectedService}'. `);
  }
  if (!REGION.test(region)) {
    throw new InvalidSignatureException('Credential should be scoped to a valid region. ');
  }
  // A malformed signature can never match; AWS answers it like any other mismatch.
  if (!SIGNATURE.test(signature)) throw new InvalidSignatureException(MISMATCH);

  const cred: SigV4Credential = { accessKeyId, date, region, service, signedHeaders, signature, amzDate, signedAt };
  if (sessionToken !== undefined) cred.sessionToken = sessionToken;
  return cred;
}

/**
 * The SignedHeaders list split, and as a set: requests from one client sign the same headers, so the
 * last list's parts are kept and shared (read-only) rather than split into a new array and set each time.
 */
let lastSignedHeaders = { text: '', signedHeaders: [] as readonly string[], set: new Set<string>() };

function splitSignedHeaders(text: string): typeof lastSignedHeaders {
  if (text !== lastSignedHeaders.text) {
    const signedHeaders = text.split(';');
    lastSignedHeaders = { text, signedHeaders, set: new Set(signedHeaders) };
  }
  return lastSignedHeaders;
}

/** The signed headers as a set: the kept one when the list is the kept list, else a new one. */
function signedHeaderSet(signedHeaders: readonly string[]): Set<string> {
  return signedHeaders === lastSignedHeaders.signedHeaders ? lastSignedHeaders.set : new Set(signedHeaders);
}

/**
 * Checks the clock skew (15 minutes either way) and the signature with the caller's secret. Throws
 * InvalidSignatureException. Synchronous: all of it is CPU work, and a promise per request buys nothing. `cred` must come from parseSigV4 on the same request. Stateless apart from
 * the signing-key cache; safe to call concurrently.
 */
export function verifySigV4(
  req: SigV4Request,
  cred: SigV4Credential,
  secret: SigningSecret,
  now: Date,
): void {
  const nowMs = now.getTime();
  if (cred.signedAt < nowMs - MAX_SKEW_MS) {
    throw new InvalidSignatureException(
      `Signature expired: ${cred.amzDate} is now earlier than ${formatAmzDate(new Date(nowMs - MAX_SKEW_MS))} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (cred.signedAt > nowMs + MAX_SKEW_MS) {
    throw new InvalidSignatureException(
      `Signature not yet current: ${cred.amzDate} is still later than ${formatAmzDate(new Date(nowMs + MAX_SKEW_MS))} (${formatAmzDate(now)} + 15 min.)`,
    );
  }

  // Exactly the signed headers: anything else the client or a proxy added must not enter the signature.
  // smithy's sign() drops `authorization` and `date` before signing (it writes them itself), so a client
  // that signed `date` could not be verified by re-signing either; they are left out here (the SignedHeaders
  // comparison below turns that into a mismatch rather than a wrong answer), but must be present all the same.
  const headers: Record<string, string> = Object.create(null);
  for (const name of cred.signedHeaders) {
    const value = header(req.headers, name);
    if (value === undefined) throw new InvalidSignatureException(MISMATCH);
    if (name !== 'date' && name !== 'authorization') headers[name] = value;
  }
  // Smithy takes a present x-amz-content-sha256 as the payload hash without hashing the body (it is made
  // for signing, where the header is ours). Here it is the client's claim: hold it to the real body, or a
  // replayed header would authenticate any body.
  const claimedHash = headers['x-amz-content-sha256'];
  if (claimedHash !== undefined && claimedHash !== sha256Hex(req.body)) {
    throw new InvalidSignatureException(MISMATCH);
  }

  // x-amz-date is what the client sent: parseAmzDate only accepts the canonical form. The payload hash is a
  // signed x-amz-content-sha256 (already held to the real body above), else the body's SHA-256.
  const payloadHash = claimedHash ?? sha256Hex(req.body);
  const canonicalRequest = rootPostCanonicalRequest(req, headers, cred.signedHeaders, payloadHash) ??
    smithyCanonicalRequest(req, headers, cred.signedHeaders, payloadHash);
  const scope = `${cred.date}/${cred.region}/${cred.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${cred.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const ours = hmacSha256(signingKey(cred, secret), stringToSign);
  if (!constantTimeEqual(ours, Buffer.from(cred.signature, 'hex'))) throw new InvalidSignatureException(MISMATCH);
}

/**
 * The secret a request is checked with. The object is also the identity of the signing keys derived from
 * it (below): the same object must always hold the same secret. The credential store's resolved entry is
 * one, replaced whenever the secret is read again (credential-store.ts).
 */
export interface SigningSecret {
  readonly secretAccessKey: string;
}

/**
 * Derived signing keys (four HMACs from the secret), one per day, region and service, as AWS SDKs cache
 * them, kept with the secret's holder: a changed secret comes in another holder and never meets an old
 * key, with no per-request hash of the secret to tell them apart (that SHA-256 was a twentieth of a
 * request's SigV4 time). They go when the holder does.
 */
const MAX_SIGNING_KEYS_PER_SECRET = 16;
const signingKeys = new WeakMap<SigningSecret, Map<string, Buffer>>();
function signingKey(cred: SigV4Credential, secret: SigningSecret): Buffer {
  const id = `${cred.date}/${cred.region}/${cred.service}`;
  let keys = signingKeys.get(secret);
  const known = keys?.get(id);
  if (known) return known;
  let key = hmacSha256(`AWS4${secret.secretAccessKey}`, cred.date);
  for (const part of [cred.region, cred.service, 'aws4_request']) key = hmacSha256(key, part);
  if (!keys) signingKeys.set(secret, (keys = new Map()));
  if (keys.size >= MAX_SIGNING_KEYS_PER_SECRET) keys.clear();
  keys.set(id, key);
  return key;
}

/**
 * The canonical request by smithy's rules: its getCanonicalHeaders (names lower-cased and sorted; in the
 * values CR and LF made spaces, runs of spaces and tabs made one, a space at either end dropped), and its
 * writer for the rest (path, query).
 */
function smithyCanonicalRequest(req: SigV4Request, headers: Record<string, string>, signedHeaders: readonly string[], payloadHash: string): string {
  const q = req.url.indexOf('?');
  const query = q < 0 ? NO_QUERY : parseQuery(req.url.slice(q + 1));
  if (query === undefined) throw new InvalidSignatureException(MISMATCH);
  const request: CanonicalizableRequest = {
    method: req.method, protocol: 'https:', hostname: headers.host ?? '', path: q < 0 ? req.url : req.url.slice(0, q), query, headers, body: req.body,
  };
  const canonicalHeaders = getCanonicalHeaders(request, undefined, signedHeaderSet(signedHeaders));
  if (!sameList(canonicalHeaders, signedHeaders)) throw new InvalidSignatureException(MISMATCH);
  return canonicalRequestWriter.write(request, canonicalHeaders, payloadHash);
}

/**
 * The canonical request of the shape every call of the AWS JSON services has, when smithy's rules have
 * nothing to change in it: POST to `/` with no query (the canonical path and query are then `/` and
 * empty), a signed-header list already in canonical order (strictly ascending, as smithy sorts), and
 * values with nothing to normalise (no CR, LF or tab, no double space, no space at either end: node's
 * parser already strips the ends). Then smithy's string is the headers as they are, written here
 * without its key sort, path normalisation and query encoding (about a twentieth of an Encrypt's CPU,
 * bench/README.md "Eighth pass"). Undefined for anything else, which takes smithy's path; no rule of
 * SigV4's canonicalisation is applied here. sigv4.test.ts holds it to smithy's signatures: the official
 * suite's POST cases, requests the SDK signs, and values with every mix of spaces, tabs, CR and LF.
 */
function rootPostCanonicalRequest(req: SigV4Request, headers: Record<string, string>, signedHeaders: readonly string[], payloadHash: string): string | undefined {
  if (req.method !== 'POST' || req.url !== '/') return undefined;
  let lines = '';
  for (let i = 0; i < signedHeaders.length; i++) {
    const name = signedHeaders[i]!;
    if (i > 0 && !(signedHeaders[i - 1]! < name)) return undefined;
    // `date` and `authorization` are left out of `headers` (verifySigV4), as smithy leaves them out.
    const value = headers[name];
    if (value === undefined || NEEDS_NORMALISING.test(value)) return undefined;
    lines += `${name}:${value}\n`;
  }
  return `POST\n/\n\n${lines}\n${signedHeaders.join(';')}\n${payloadHash}`;
}

/** A value smithy's getCanonicalHeaders would change (CR/LF to spaces, runs of spaces and tabs to one, a space at either end dropped). */
const NEEDS_NORMALISING = /[\r\n\t]| {2}|^ | $/;

/** The request shape smithy's canonicalisation takes (an @smithy/types HttpRequest). */
type CanonicalizableRequest = Parameters<typeof getCanonicalHeaders>[0];

/**
 * smithy's canonical-request writer (SignatureV4Base.createCanonicalRequest: method, normalised and
 * re-encoded path as for every AWS service but S3, canonical query, headers, payload hash), made callable.
 * The constructor's credentials and region are never used: no request is signed with this object.
 */
class CanonicalRequestWriter extends SignatureV4Base {
  constructor() {
    super({
      service: 'unused', region: 'unused', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: false,
    });
  }

  write(request: CanonicalizableRequest, canonicalHeaders: Record<string, string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  }
}
const canonicalRequestWriter = new CanonicalRequestWriter();

/** A header as one string; node gives an array only for set-cookie, which SigV4 would join with commas. */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  if (!Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The last X-Amz-Date parsed and its value: requests under load are signed within the same second, and
 * the parse (a regex, Date.UTC and six getters) showed in the profile. A pure function of the string.
 */
let lastAmzDate = { text: '', ms: undefined as number | undefined };

/** YYYYMMDDTHHMMSSZ to epoch ms; undefined unless it is a real instant written in exactly that form. */
function parseAmzDate(value: string): number | undefined {
  if (value === lastAmzDate.text) return lastAmzDate.ms;
  const ms = parseAmzDateUncached(value);
  lastAmzDate = { text: value, ms };
  return ms;
}

function parseAmzDateUncached(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Rejects 20150230T000000Z, T245900Z and the like, which Date.UTC would roll over, and years below 100,
  // which it would read as 19xx.
  const exact = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d &&
    date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
  return exact ? date.getTime() : undefined;
}

function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Whether the canonical headers are exactly the signed list: their sorted names, joined by ';', equal to
 * the list as given (so an unsorted or repeated list never matches, as AWS refuses it). Checked without
 * sorting: the list strictly ascending (in sort()'s UTF-16 order), each name among the canonical headers,
 * and as many of them. V8's sort allocates its merge state (about 940 bytes) even for five names.
 */
function sameList(canonicalHeaders: Record<string, string>, signedHeaders: readonly string[]): boolean {
  let count = 0;
  for (const name in canonicalHeaders) if (Object.hasOwn(canonicalHeaders, name)) count++;
  if (count !== signedHeaders.length) return false;
  for (let i = 0; i < signedHeaders.length; i++) {
    const name = signedHeaders[i]!;
    if (i > 0 && !(signedHeaders[i - 1]! < name)) return false;
    if (!Object.hasOwn(canonicalHeaders, name)) return false;
  }
  return true;
}

/** The query of a target without one; smithy only reads it. */
const NO_QUERY: Record<string, string | string[]> = Object.freeze(Object.create(null) as Record<string, string | string[]>);

/**
 * The query of a raw origin-form target (after '?'), decoded, which smithy re-encodes and sorts; the
 * path stays encoded (smithy encodes it once more, as SigV4 wants for every service but S3). A key without
 * '=' has the empty value; '+' stays a literal plus (SDKs send %20 for a space). Undefined if it holds a
 * malformed %-escape, which no signer could have produced.
 */
function parseQuery(raw: string): Record<string, string | string[]> | undefined {
  const query: Record<string, string | string[]> = Object.create(null);
  try {
    for (const pair of raw.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      const prior = query[key];
      query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
  } catch {
    return undefined;
  }
  return query;
}
