/**
 * AWS: GetRandomPassword — length 1–4096 (default 32); the character set is upper, lower, digits and
 * punctuation ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`` (space only with IncludeSpace); ExcludeCharacters
 * removes characters; RequireEachIncludedType (default true) puts at least one of each included type in.
 */
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { InvalidParameterException } from './errors.ts';

export interface PasswordOptions {
  passwordLength?: number;
  excludeCharacters?: string;
  excludeNumbers?: boolean;
  excludePunctuation?: boolean;
  excludeUppercase?: boolean;
  excludeLowercase?: boolean;
  includeSpace?: boolean;
  requireEachIncludedType?: boolean;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** Uniform integer in [0, n) by rejection sampling (n ≤ 2^16). */
function randomInt(n: number): number {
  const limit = 65536 - (65536 % n);
  for (;;) {
    const v = randomBytesBuffer(2).readUInt16BE(0);
    if (v < limit) return v % n;
  }
}

export function randomPassword(o: PasswordOptions = {}): string {
  const length = o.passwordLength ?? 32;
  const excluded = new Set(o.excludeCharacters ?? '');
  const keep = (set: string) => [...set].filter((c) => !excluded.has(c)).join('');
  const types = [
    o.excludeUppercase ? '' : keep(UPPER),
    o.excludeLowercase ? '' : keep(LOWER),
    o.excludeNumbers ? '' : keep(DIGITS),
    o.excludePunctuation ? '' : keep(PUNCTUATION),
    o.includeSpace ? keep(' ') : '',
  ].filter((t) => t.length > 0);
  const all = types.join('');
  if (all.length === 0) throw new InvalidParameterException('The password cannot be generated: every character type is excluded.');
  const required = o.requireEachIncludedType ?? true;
  if (required && length < types.length) {
    throw new InvalidParameterException('Password length is too short based on the required types.');
  }
  const chars: string[] = [];
  if (required) for (const t of types) chars.push(t[randomInt(t.length)]!);
  while (chars.length < length) chars.push(all[randomInt(all.length)]!);
  // Fisher–Yates so the required characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
