/**
 * Built-in single-user PostgreSQL rotator (RotationLambdaARN `trent:rotator:postgres`), after AWS's
 * SecretsManagerRDSPostgreSQLRotationSingleUser template. The secret's value is JSON with engine, host,
 * port, username, password, dbname.
 * - createSecret: unless AWSPENDING already holds the token's version, copy AWSCURRENT with a fresh
 *   password (GetRandomPassword defaults, minus characters that break connection strings) under AWSPENDING.
 * - setSecret: log in with the current password (or the pending one, if a previous attempt already set
 *   it) and run ALTER USER … WITH PASSWORD.
 * - testSecret: log in with the pending password and run SELECT 1.
 * - finishSecret: move AWSCURRENT to the pending version (AWSPREVIOUS follows) and drop AWSPENDING.
 * Passwords are sent to the server only inside ALTER USER (escaped literal) and the login handshake.
 */
import pg from 'pg';
import type { Caller } from '../auth/caller.ts';
import { randomPassword } from './password.ts';
import type { BuiltInRotatorFactory, RotationEvent } from './rotation.ts';
import type { SecretService } from './secret-service.ts';
import { AWSCURRENT, AWSPENDING } from './secret-model.ts';

interface PgSecret {
  engine?: string;
  host: string;
  port?: number;
  username: string;
  password: string;
  dbname?: string;
}

function parse(text: string): PgSecret {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('the secret value is not JSON');
  }
  const o = v as Record<string, unknown>;
  if (typeof o.host !== 'string' || typeof o.username !== 'string' || typeof o.password !== 'string') {
    throw new Error('the secret JSON needs host, username and password');
  }
  if (o.engine !== undefined && o.engine !== 'postgres') throw new Error(`engine ${String(o.engine)} is not postgres`);
  return o as unknown as PgSecret;
}

async function withClient<T>(s: PgSecret, body: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: s.host,
    port: Number(s.port ?? 5432),
    user: s.username,
    password: s.password,
    database: s.dbname ?? 'postgres',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function valueAt(secrets: SecretService, caller: Caller, arn: string, stage: string, versionId?: string): Promise<PgSecret> {
  const out = await secrets.getSecretValue(caller, { secretId: arn, ...(versionId ? { versionId } : {}), versionStage: stage });
  if (out.value.kind !== 'string') throw new Error('the secret value is binary, not JSON');
  return parse(out.value.text);
}

export const postgresRotator: BuiltInRotatorFactory = (secrets: SecretService) => ({
  async run(event: RotationEvent, caller: Caller) {
    const { SecretId: arn, ClientRequestToken: token } = event;
    switch (event.Step) {
      case 'createSecret': {
        const s = await secrets.resolve(caller, arn);
        if (s.doc.versions[token]?.stages.includes(AWSPENDING)) return;
        const current = await valueAt(secrets, caller, arn, AWSCURRENT);
        const password = randomPassword({ excludeCharacters: '/@"\'\\' });
        await secrets.addVersion(caller, arn, token, { kind: 'string', text: JSON.stringify({ ...current, password }) }, [AWSPENDING]);
        return;
      }
      case 'setSecret': {
        const pending = await valueAt(secrets, caller, arn, AWSPENDING, token);
        const current = await valueAt(secrets, caller, arn, AWSCURRENT);
        if (pending.username !== current.username) throw new Error('the pending username differs from the current one');
        const alter = (c: pg.Client) => c.query(`ALTER USER ${c.escapeIdentifier(pending.username)} WITH PASSWORD ${c.escapeLiteral(pending.password)}`);
        try {
          await withClient(current, alter);
        } catch {
          // A retried rotation may already have set the pending password.
          await withClient(pending, alter).catch(() => {
            throw new Error('setSecret: could not log in with the current or the pending password');
          });
        }
        return;
      }
      case 'testSecret': {
        const pending = await valueAt(secrets, caller, arn, AWSPENDING, token);
        await withClient(pending, (c) => c.query('SELECT 1')).catch(() => {
          throw new Error('testSecret: could not log in with the pending password');
        });
        return;
      }
      case 'finishSecret': {
        const s = await secrets.resolve(caller, arn);
        const currentId = Object.keys(s.doc.versions).find((id) => s.doc.versions[id]!.stages.includes(AWSCURRENT));
        if (currentId !== token) {
          await secrets.updateSecretVersionStage(caller, { secretId: arn, stage: AWSCURRENT, moveTo: token, ...(currentId ? { removeFrom: currentId } : {}) });
        }
        await secrets.updateSecretVersionStage(caller, { secretId: arn, stage: AWSPENDING, removeFrom: token });
        return;
      }
    }
  },
});
