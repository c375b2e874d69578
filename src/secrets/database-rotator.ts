/**
 * The four steps of AWS's single-user database rotation templates (SecretsManagerRDS<Engine>RotationSingleUser),
 * shared by the built-in rotators; each engine supplies only a driver (log in, change the password, ping).
 * The secret's value is JSON with engine, host, port, username, password, dbname, as the templates expect.
 * - createSecret: unless the token's version already has a value, copy AWSCURRENT with a fresh
 *   password (GetRandomPassword defaults minus `/@"'\`, the templates' EXCLUDE_CHARACTERS, which break
 *   connection strings and SQL literals) under AWSPENDING with VersionId = token.
 * - setSecret: log in with the current password (or with the pending one, when an earlier attempt already
 *   set it, as the templates do) and set the user's password to the pending one.
 * - testSecret: log in with the pending password and run a trivial query.
 * - finishSecret: move AWSCURRENT to the pending version (AWSPREVIOUS follows) and drop AWSPENDING.
 * A thrown Error fails the step; its message is recorded and must never contain a password.
 */
import type { Caller } from '../auth/caller.ts';
import { randomPassword } from './password.ts';
import type { BuiltInRotatorFactory, RotationEvent } from './rotation.ts';
import type { SecretService } from './secret-service.ts';
import { AWSCURRENT, AWSPENDING } from './secret-model.ts';

export interface DbCredentials {
  engine?: string;
  host: string;
  port?: number;
  username: string;
  password: string;
  dbname?: string;
  /** `true`: TLS with the server's certificate verified (verify-full); `false`: no TLS. */
  ssl?: boolean;
  /** libpq's names (disable, require, verify-ca, verify-full) or MySQL's (DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY). */
  sslmode?: string;
}

/**
 * How a built-in rotator connects, from the secret's `ssl` / `sslmode` (absent: no TLS, as before).
 * - require: encrypted, the certificate is not checked (libpq's `require`);
 * - verify-ca: the certificate must chain to a trusted CA (Node's roots plus NODE_EXTRA_CA_CERTS);
 * - verify-full: that, and the certificate names `host`.
 * libpq's `allow` / `prefer` (fall back to plain text) are refused: a rotator never sends a password in
 * clear because TLS happened to fail.
 */
export type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

const SSLMODES: Record<string, TlsMode> = {
  disable: 'disable', disabled: 'disable',
  require: 'require', required: 'require',
  'verify-ca': 'verify-ca', verify_ca: 'verify-ca',
  'verify-full': 'verify-full', verify_identity: 'verify-full',
};

export function tlsModeOf(c: DbCredentials): TlsMode {
  if (c.sslmode !== undefined) return SSLMODES[c.sslmode.toLowerCase()]!;
  return c.ssl === true ? 'verify-full' : 'disable';
}

/** One database engine. Every call opens its own connection and closes it. */
export interface DatabaseDriver {
  /** `engine` values the driver accepts (an absent engine is accepted too). */
  readonly engines: readonly string[];
  /** Logs in with `login` and sets that user's own password to `newPassword`. */
  setOwnPassword(login: DbCredentials, newPassword: string): Promise<void>;
  /** Logs in with `login` and runs a trivial query. */
  ping(login: DbCredentials): Promise<void>;
}

/** AWS: the rotation templates' EXCLUDE_CHARACTERS default. */
export const TEMPLATE_EXCLUDED_CHARACTERS = '/@"\'\\';

function parse(text: string, engines: readonly string[]): DbCredentials {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('the secret value is not JSON');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.host !== 'string' || typeof o.username !== 'string' || typeof o.password !== 'string') {
    throw new Error('the secret JSON needs host, username and password');
  }
  if (o.port !== undefined && !Number.isInteger(Number(o.port))) throw new Error('the secret JSON has a port that is not a number');
  if (o.ssl !== undefined && typeof o.ssl !== 'boolean') throw new Error('the secret JSON has an ssl that is not true or false');
  if (o.sslmode !== undefined && (typeof o.sslmode !== 'string' || !Object.hasOwn(SSLMODES, o.sslmode.toLowerCase()))) {
    throw new Error('the secret JSON has an sslmode that is not disable, require, verify-ca or verify-full');
  }
  if (o.engine !== undefined && !engines.includes(String(o.engine))) {
    throw new Error(`engine ${String(o.engine)} is not one of ${engines.join(', ')}`);
  }
  return o as unknown as DbCredentials;
}

export function databaseRotator(driver: DatabaseDriver): BuiltInRotatorFactory {
  return (secrets: SecretService) => {
    // The steps are the service's own, for a rotation RotateSecret (or the schedule it set) authorized:
    // they read and label the secret without being authorized again as requests.
    const valueAt = async (caller: Caller, arn: string, stage: string, versionId?: string): Promise<DbCredentials> => {
      const out = await secrets.getSecretValue(caller, { secretId: arn, ...(versionId ? { versionId } : {}), versionStage: stage }, { authorize: false });
      if (out.value.kind !== 'string') throw new Error('the secret value is binary, not JSON');
      return parse(out.value.text, driver.engines);
    };
    return {
      async run(event: RotationEvent, caller: Caller) {
        const { SecretId: arn, ClientRequestToken: token } = event;
        switch (event.Step) {
          case 'createSecret': {
            // AWS templates: done when the token's version already has a value (the run is resumed);
            // the empty version the run started with (AWSPENDING, no value) is filled here.
            const s = await secrets.resolve(caller, arn);
            const mine = s.doc.versions[token];
            if (mine && !mine.empty && mine.stages.includes(AWSPENDING)) return;
            const current = await valueAt(caller, arn, AWSCURRENT);
            const password = randomPassword({ excludeCharacters: TEMPLATE_EXCLUDED_CHARACTERS });
            await secrets.addVersion(caller, arn, token, { kind: 'string', text: JSON.stringify({ ...current, password }) }, [AWSPENDING]);
            return;
          }
          case 'setSecret': {
            const pending = await valueAt(caller, arn, AWSPENDING, token);
            const current = await valueAt(caller, arn, AWSCURRENT);
            if (pending.username !== current.username) throw new Error('the pending username differs from the current one');
            try {
              await driver.setOwnPassword(current, pending.password);
            } catch {
              // AWS templates: a retried rotation may already have set the pending password.
              await driver.setOwnPassword(pending, pending.password).catch(() => {
                throw new Error('setSecret: could not log in with the current or the pending password');
              });
            }
            return;
          }
          case 'testSecret': {
            const pending = await valueAt(caller, arn, AWSPENDING, token);
            await driver.ping(pending).catch(() => {
              throw new Error('testSecret: could not log in with the pending password');
            });
            return;
          }
          case 'finishSecret': {
            const s = await secrets.resolve(caller, arn);
            const currentId = Object.keys(s.doc.versions).find((id) => s.doc.versions[id]!.stages.includes(AWSCURRENT));
            if (currentId !== token) {
              await secrets.updateSecretVersionStage(
                caller, { secretId: arn, stage: AWSCURRENT, moveTo: token, ...(currentId ? { removeFrom: currentId } : {}) }, { authorize: false },
              );
            }
            await secrets.updateSecretVersionStage(caller, { secretId: arn, stage: AWSPENDING, removeFrom: token }, { authorize: false });
            return;
          }
        }
      },
    };
  };
}
