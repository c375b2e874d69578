/**
 * Normalises Trent's responses the way LocalStack's snapshot transformers normalised the responses
 * recorded against AWS (test/fidelity/recorded/), so the two can be compared member by member.
 *
 * The transformers (localstack-core/localstack/testing/snapshots/transformer_utility.py, `kms_api()`,
 * `key_value`, `resource_name()`, the basic uuid/datetime transformers and the per-session region,
 * partition and account replacements) turn every id into a numbered placeholder (`<key-id:1>`: the
 * same value gets the same number throughout one test, a different value a different number), every
 * date into `datetime`, and opaque blobs into a bare name (`ciphertext-blob`). Numbering depends on the
 * order in which the transformers met the values; instead of replaying that order, this normaliser
 * binds each numbered placeholder of the recording to the value Trent returned in the same place and
 * requires the binding to be one-to-one across the whole test. A value that breaks the binding (a
 * second key where the recording has the first, one key where the recording has two) is left as it
 * was and so shows up in the diff.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const PLACEHOLDER = /<[A-Za-z0-9_.-]+(?::\d+)?>/g;
const UUID = /[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}/g;

/** `CiphertextBlob` → `ciphertext-blob`: the bare replacement of `key_value(k, reference_replacement=False)`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/^-/, '');
}

export class Normaliser {
  private readonly valueOf = new Map<string, string>();
  private readonly placeholderOf = new Map<string, string>();

  /** `globals`: literal replacements applied to every string first (region, partition, account). */
  constructor(private readonly globals: ReadonlyArray<readonly [string, string]>) {}

  /** `actual` with every value the recording holds as a placeholder replaced by that placeholder. */
  normalise(recorded: Json | undefined, actual: Json | undefined, key = ''): Json | undefined {
    if (actual === undefined) return undefined;
    if ((recorded === 'datetime' || recorded === '<datetime>') && typeof actual === 'number') return recorded;
    if (typeof actual === 'string') {
      // The snapshot library parses a member holding a JSON document (a policy) before it records it.
      if (recorded !== null && typeof recorded === 'object' && /^\s*[[{]/.test(actual)) {
        try {
          return this.normalise(recorded, JSON.parse(actual) as Json, key);
        } catch {
          // not JSON after all: compared as the string it is
        }
      }
      return this.normaliseString(recorded, actual, key);
    }
    if (Array.isArray(actual)) {
      const rec = Array.isArray(recorded) ? recorded : [];
      return sortedAsRecorded(key, actual).map((v, i) => this.normalise(rec[i], v, key) as Json);
    }
    if (actual !== null && typeof actual === 'object') {
      const rec = recorded !== null && typeof recorded === 'object' && !Array.isArray(recorded) ? recorded : {};
      const out: Record<string, Json> = {};
      // A member name that is itself an id (VersionIdsToStages) was replaced like a value.
      const freeKeys = Object.keys(rec).filter((k) => !(k in actual) && k.includes('<'));
      for (const [k, v] of Object.entries(actual)) {
        let name = k;
        if (!(k in rec)) {
          const taken = freeKeys.findIndex((candidate) => this.normaliseString(candidate, k, '') === candidate);
          if (taken >= 0) name = freeKeys.splice(taken, 1)[0]!;
        }
        const n = this.normalise(rec[name], v, name);
        if (n !== undefined) out[name] = n;
      }
      return out;
    }
    return actual;
  }

  private applyGlobals(s: string): string {
    let out = s;
    for (const [from, to] of this.globals) out = out.split(from).join(to);
    return out;
  }

  private normaliseString(recorded: Json | undefined, actual: string, key: string): string {
    const value = this.applyGlobals(actual);
    if (typeof recorded !== 'string') return value;
    if (recorded === value) return value;
    // key_value(..., reference_replacement=False): any non-empty value becomes the key's name.
    if (actual !== '' && (recorded === kebab(key) || recorded === `<${kebab(key)}>`)) return recorded;
    const placeholders = recorded.match(PLACEHOLDER);
    if (!placeholders) return value;
    const literals = recorded.split(PLACEHOLDER).map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // `<ArnPart-Nidx>` is the `-` and six characters a secret ARN ends in (secretsmanager_secret_id_arn).
    const capture = (p: string) => (/^<ArnPart-\d+idx>$/.test(p) ? '(-[A-Za-z0-9]{6})' : '(.+?)');
    const pattern = new RegExp(`^${literals.map((l, i) => (i === 0 ? l : `${capture(placeholders[i - 1]!)}${l}`)).join('')}$`, 's');
    const m = pattern.exec(value);
    if (!m) return value;
    const bindings: Array<[string, string]> = [];
    for (let i = 0; i < placeholders.length; i++) {
      const placeholder = placeholders[i]!;
      const bound = m[i + 1]!;
      // Unnumbered (`<key-arn>`, `<region>`): any value. Numbered (`<key-id:1>`, `<ArnPart-0idx>`): one value each.
      if (!/(:\d+|-\d+idx)>$/.test(placeholder)) continue;
      const known = this.valueOf.get(placeholder);
      const owner = this.placeholderOf.get(bound);
      if ((known !== undefined && known !== bound) || (owner !== undefined && owner !== placeholder)) return value;
      bindings.push([placeholder, bound]);
    }
    for (const [placeholder, bound] of bindings) {
      this.valueOf.set(placeholder, bound);
      this.placeholderOf.set(bound, placeholder);
    }
    return recorded;
  }
}

/**
 * LocalStack's SortingTransformers for Secrets Manager: VersionStages sorted, Versions by CreatedDate
 * (transformer_utility.py `secretsmanager_api`).
 */
function sortedAsRecorded(key: string, list: Json[]): Json[] {
  if (key === 'VersionStages') return [...list].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  if (key === 'Versions') {
    const created = (v: Json) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Number(v.CreatedDate ?? 0) : 0);
    return [...list].sort((a, b) => created(a) - created(b));
  }
  return list;
}

/** Stable text for a value in a diff: ids and blobs masked so that a diff reads the same on every run. */
export function stable(value: Json | undefined): string {
  if (value === undefined) return '(absent)';
  return JSON.stringify(value)
    .replace(UUID, '<uuid>')
    .replace(/mrk-[0-9a-f]{32}/g, 'mrk-<id>')
    .replace(/\b[a-f0-9]{64}\b/g, '<hex64>')
    .replace(/[A-Za-z0-9+/]{40,}={0,2}/g, '<blob>')
    .replace(/(:secret:[^"]*?)-[A-Za-z0-9]{6}"/g, '$1-<suffix>"')
    .replace(/\b1\d{9}(\.\d+)?\b/g, '<time>');
}

/** Every difference between `expected` (the recording) and `actual` (normalised Trent), one line each. */
export function diff(expected: Json | undefined, actual: Json | undefined, path: string): string[] {
  if (expected === undefined && actual === undefined) return [];
  if (expected === undefined || actual === undefined) {
    return [`${path}: expected ${stable(expected)}, got ${stable(actual)}`];
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) out.push(...diff(expected[i], actual[i], `${path}[${i}]`));
    return out;
  }
  const isObj = (v: Json) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(expected) && isObj(actual)) {
    const e = expected as Record<string, Json>;
    const a = actual as Record<string, Json>;
    const out: string[] = [];
    for (const k of [...new Set([...Object.keys(e), ...Object.keys(a)])].sort()) out.push(...diff(e[k], a[k], `${path}.${k}`));
    return out;
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  return [`${path}: expected ${stable(expected)}, got ${stable(actual)}`];
}
