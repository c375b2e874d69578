import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationException } from '../errors/errors.ts';
import { parseDeliver } from './wire.ts';

const envelope = (Record: unknown) => ({ ExchangeId: 'e', SenderPublicKey: 'k', Seq: 3, HeaderKey: 'h', Record });
const ids = {
  accountId: '111122223333', name: 'app/db', arn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbC123',
  sourceRegion: 'us-east-1', region: 'eu-central-1',
};
const V1 = '1'.repeat(32); // a VersionId: 32–64 characters
const view = { tags: [], rotation: { enabled: false }, versions: { [V1]: { stages: ['AWSCURRENT'], createdAt: 1, kind: 'string' } }, lastChangedAt: 1 };

test('secret records: the well-formed kinds parse; a key record without Kind still takes the key checks', () => {
  assert.equal(parseDeliver(envelope({ Kind: 'secret', ...ids, view, values: [{ versionId: V1, wrapped: 'x' }] })).Seq, 3);
  for (const Kind of ['secret-replica-deleted', 'secret-replica-stopped']) parseDeliver(envelope({ Kind, ...ids }));
  assert.throws(() => parseDeliver(envelope({ ...ids })), /Malformed replication request: Record ids/);
});

test('secret records: an unknown Kind, an ARN not of the name and region, a value of no listed version, values on a deletion are refused', () => {
  const refused = [
    { Kind: 'secret-rotated', ...ids },
    { Kind: 'secret-replica-deleted', ...ids, arn: ids.arn.replace('us-east-1', 'eu-west-1') },
    { Kind: 'secret-replica-deleted', ...ids, arn: ids.arn.replace('app/db', 'app/other') },
    { Kind: 'secret-replica-deleted', ...ids, arn: `${ids.arn}x` },
    { Kind: 'secret', ...ids, view, values: [{ versionId: '2'.repeat(32), wrapped: 'x' }] },
    { Kind: 'secret', ...ids, view, values: [{ versionId: 'constructor', wrapped: 'x' }] },
    { Kind: 'secret', ...ids, view, values: [{ versionId: V1, wrapped: 'x' }, { versionId: V1, wrapped: 'y' }] },
    { Kind: 'secret', ...ids, view: { ...view, rotation: {} }, values: [] },
    { Kind: 'secret', ...ids, view: { ...view, versions: { v1: view.versions[V1] } }, values: [] },
    { Kind: 'secret-replica-stopped', ...ids, values: [] },
    { Kind: 'secret', ...ids, name: 'bad name', arn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:bad name-AbC123', view, values: [] },
  ];
  for (const r of refused) assert.throws(() => parseDeliver(envelope(r)), ValidationException, JSON.stringify(r));
});
