/**
 * ListSecrets and BatchGetSecretValue Filters, as AWS documents them (API reference "Filter", user guide
 * "Find secrets") and as its recorded ListSecrets filtering test shows:
 * - name, tag-key, tag-value, primary-region (PrimaryRegion: replicated secrets only): prefix of the whole attribute, case-sensitive
 *   (`/` matches `/testing2/two`, not `testing1/one`; `testing1 one` matches no name);
 * - description: by words, not case-sensitive — every word of the value prefixes some word of the
 *   description (`a secret` matches "a secret" and "an secret", not "asecret");
 * - owning-service: prefix, not case-sensitive (Trent has no managed secrets, so nothing has one);
 * - all: by words, not case-sensitive, over the name, description, tag keys and tag values.
 * Words break at anything but letters and digits, and where lower case turns to upper case or a letter
 * to a digit (user guide: `credsDatabase#892` is creds, Database, 892).
 * The values of one filter are OR'ed; a value with a leading `!` excludes what it matches; filters AND.
 */
import type { Secret } from './secret-context.ts';
import { primaryRegionOf } from './secret-model.ts';

export interface ListFilter {
  Key: string;
  Values: string[];
}

/** The words of `s`, lower-cased. */
export function wordsOf(s: string): string[] {
  return s
    .split(/[^A-Za-z0-9]+/)
    .flatMap((part) => part.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])/))
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** Every word of `value` starts some word of the attributes (none: no match). */
function wordsMatch(value: string, attributes: string[]): boolean {
  const wanted = wordsOf(value);
  if (wanted.length === 0) return false;
  const words = attributes.flatMap(wordsOf);
  return wanted.every((w) => words.some((x) => x.startsWith(w)));
}

function prefixMatch(value: string, attributes: string[], caseSensitive: boolean): boolean {
  return caseSensitive
    ? attributes.some((a) => a.startsWith(value))
    : attributes.some((a) => a.toLowerCase().startsWith(value.toLowerCase()));
}

/** Whether one value (without its `!`) of the filter `key` matches the secret. */
function valueMatches(s: Secret, key: string, value: string): boolean {
  const tags = s.doc.tags;
  switch (key) {
    case 'name': return prefixMatch(value, [s.name], true);
    case 'tag-key': return prefixMatch(value, tags.map((t) => t.Key), true);
    case 'tag-value': return prefixMatch(value, tags.map((t) => t.Value), true);
    // A secret without replicas has no PrimaryRegion and matches no primary-region filter (as moto, whose
    // replication tests mirror AWS); a replica matches by its primary's region.
    case 'primary-region': {
      const primary = primaryRegionOf(s.doc, s.scope.region);
      return primary !== undefined && prefixMatch(value, [primary], true);
    }
    case 'owning-service': return false;
    case 'description': return wordsMatch(value, s.doc.description ? [s.doc.description] : []);
    default:
      return wordsMatch(value, [s.name, ...(s.doc.description ? [s.doc.description] : []), ...tags.flatMap((t) => [t.Key, t.Value])]);
  }
}

export function matchesFilter(s: Secret, f: ListFilter): boolean {
  const positive = f.Values.filter((v) => !v.startsWith('!'));
  const negative = f.Values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  if (negative.some((v) => valueMatches(s, f.Key, v))) return false;
  return positive.length === 0 || positive.some((v) => valueMatches(s, f.Key, v));
}
