/**
 * The one format of a secret's ARN, and its one parser (AWS: "Secrets Manager ARNs"):
 * `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>`. The random suffix
 * keeps the ARN of a deleted secret from naming a later secret of the same name. AWS also accepts a
 * partial ARN, without the suffix, wherever a SecretId is looked up.
 */
import { randomBytesBuffer } from '../crypto/primitives.ts';
import type { Scope } from '../storage/storage.ts';

const SECRET_ARN = /^arn:aws:secretsmanager:([^:]+):(\d{12}):secret:(.+)$/;
const SUFFIX = /-([A-Za-z0-9]{6})$/;
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The 6 random letters and digits a new secret's ARN ends with. */
export function randomArnSuffix(): string {
  const bytes = randomBytesBuffer(6);
  return [...bytes].map((b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join('');
}

/** A secret's full ARN; without `suffix`, the partial ARN (what a policy sees of a secret that does not exist). */
export function secretArn(scope: Scope, name: string, suffix?: string): string {
  return `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${name}${suffix !== undefined ? `-${suffix}` : ''}`;
}

/** What a secret ARN says; both readings are given because the text alone cannot tell a full ARN from a partial one. */
export interface SecretArnParts {
  readonly region: string;
  readonly accountId: string;
  /** Read as a partial ARN: everything after `secret:` is the name. */
  readonly partialName: string;
  /**
   * Read as a full ARN, when it ends in `-` and 6 letters or digits: the name before them and the suffix.
   * A name may end that way itself (`app/db-backup`); AWS then reads the ARN as a full one only, and so
   * does the lookup (secret-lookup.ts): the partial ARN of such a secret finds nothing.
   */
  readonly full?: { readonly name: string; readonly suffix: string };
}

/** The parts of a secret ARN, full or partial; undefined when the text is not one. */
export function parseSecretArn(arn: string): SecretArnParts | undefined {
  const m = SECRET_ARN.exec(arn);
  if (!m) return undefined;
  const rest = m[3]!;
  const suffix = SUFFIX.exec(rest)?.[1];
  return {
    region: m[1]!,
    accountId: m[2]!,
    partialName: rest,
    ...(suffix !== undefined ? { full: { name: rest.slice(0, -(suffix.length + 1)), suffix } } : {}),
  };
}
