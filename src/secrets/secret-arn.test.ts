import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSecretArn, randomArnSuffix, secretArn } from './secret-arn.ts';

const SCOPE = { region: 'us-east-1', accountId: '111122223333' };
const PREFIX = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:';

test('a full ARN is the name, a dash and the 6-character suffix; it parses back to its name and suffix', () => {
  const arn = secretArn(SCOPE, 'app/db', 'AbC123');
  assert.equal(arn, `${PREFIX}app/db-AbC123`);
  assert.deepEqual(parseSecretArn(arn), { region: 'us-east-1', accountId: '111122223333', partialName: 'app/db-AbC123', full: { name: 'app/db', suffix: 'AbC123' } });
});

test('a partial ARN (no suffix) parses to the whole name, with no full reading', () => {
  assert.equal(secretArn(SCOPE, 'team/app/db'), `${PREFIX}team/app/db`);
  assert.deepEqual(parseSecretArn(`${PREFIX}team/app/db`), { region: 'us-east-1', accountId: '111122223333', partialName: 'team/app/db' });
});

test('names with "-" and "/" keep them: only the last dash and 6 characters are a suffix', () => {
  assert.deepEqual(parseSecretArn(`${PREFIX}prod/my-app/db-main-x1Y2z3`)?.full, { name: 'prod/my-app/db-main', suffix: 'x1Y2z3' });
  assert.equal(parseSecretArn(`${PREFIX}prod/my-app/db-main-x1Y2z3`)?.partialName, 'prod/my-app/db-main-x1Y2z3');
  // "db-main" ends in a dash and 4 characters: only the partial reading.
  assert.equal(parseSecretArn(`${PREFIX}prod/my-app/db-main`)?.full, undefined);
});

test('a partial ARN whose name ends in a dash and 6 characters has both readings (a lookup tries the full one first)', () => {
  const parts = parseSecretArn(`${PREFIX}app/db-backup`);
  assert.deepEqual(parts?.full, { name: 'app/db', suffix: 'backup' });
  assert.equal(parts?.partialName, 'app/db-backup');
});

test('text that is not a secret ARN of the aws partition does not parse', () => {
  for (const text of [
    'app/db',
    'arn:aws:secretsmanager:us-east-1:111122223333:secret:',
    'arn:aws:secretsmanager::111122223333:secret:app/db', // no region
    'arn:aws:secretsmanager:us-east-1:1111:secret:app/db', // account not 12 digits
    'arn:aws:ssm:us-east-1:111122223333:parameter/app/db',
    'arn:aws:secretsmanager:us-east-1:111122223333:app/db',
  ]) {
    assert.equal(parseSecretArn(text), undefined, text);
  }
});

test('a random suffix is 6 letters or digits, and a secret ARN made with it parses back', () => {
  const suffix = randomArnSuffix();
  assert.match(suffix, /^[A-Za-z0-9]{6}$/);
  assert.deepEqual(parseSecretArn(secretArn(SCOPE, 'x-y/z', suffix))?.full, { name: 'x-y/z', suffix });
});
