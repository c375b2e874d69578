/**
 * A request on a secret looks the secret up once: the read that authorizes the caller on it (its policy,
 * tags and ARN take part) is the read the operation then works from. Counted at the store, below
 * everything Trent does, as reads of the secret's row; a second lookup (an access rule of its own, then
 * the operation's) would show as two.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../src/clock.ts';
import { RepoDecoratingStorage } from '../../src/storage/repo-decorating-storage.ts';
import type { Repos } from '../../src/storage/storage.ts';
import { ADMIN, REGION, startServer, type TestServer } from './harness.ts';

/** The real store, counting reads of secret rows (repos.secrets.get) in reads and transactions alike. */
class SecretRowReads extends RepoDecoratingStorage {
  count = 0;
  protected decorate(r: Repos): Repos {
    const secrets = r.secrets;
    return {
      ...r,
      secrets: {
        insert: (s) => secrets.insert(s),
        get: (scope, name) => {
          this.count++;
          return secrets.get(scope, name);
        },
        listAll: (scope) => secrets.listAll(scope),
        update: (s, expected) => secrets.update(s, expected),
        delete: (scope, name) => secrets.delete(scope, name),
        listDue: (now, limit) => secrets.listDue(now, limit),
      },
    };
  }
}

let server: TestServer;
let sm: SecretsManagerClient;
let store: SecretRowReads;
let arn: string;

before(async () => {
  // A fixed day: GetSecretValue records LastAccessedDate on the first read of a day, a write of its own.
  server = await startServer({ clock: new ManualClock(Date.UTC(2026, 0, 10, 12)), wrapStorage: (s) => (store = new SecretRowReads(s)) });
  sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  arn = (await sm.send(new CreateSecretCommand({ Name: 'lookup/once', SecretString: 'v1', ClientRequestToken: '00000001-1111-2222-3333-444455556666' }))).ARN!;
  await sm.send(new GetSecretValueCommand({ SecretId: 'lookup/once' }));
});
after(async () => {
  sm.destroy();
  await server.stop(true);
});

/** Reads of secret rows while `call` runs. */
async function rowReads(call: () => Promise<unknown>): Promise<number> {
  const before = store.count;
  await call();
  return store.count - before;
}

test('GetSecretValue reads the secret once, by name and by ARN', async () => {
  for (const id of ['lookup/once', arn]) {
    assert.equal(await rowReads(() => sm.send(new GetSecretValueCommand({ SecretId: id }))), 1, id);
  }
});

test('DescribeSecret reads the secret once', async () => {
  assert.equal(await rowReads(() => sm.send(new DescribeSecretCommand({ SecretId: 'lookup/once' }))), 1);
});
